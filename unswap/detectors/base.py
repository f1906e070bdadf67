"""The detector interface: preprocess (CPU, batched) -> forward (runtime) -> postprocess.

A detector sees face crops made by ``unswap.faces.align`` with the geometry its config
names, and returns calibrated probabilities that the face is swapped.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from unswap.aggregate import label_for
from unswap.faces.align import crop, crop_box, resize_crop


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Logistic function without overflow for large |z|."""
    return np.exp(-np.logaddexp(0.0, -np.asarray(z, np.float64)))


def golden_crops(size: int) -> np.ndarray:
    """Fixed inputs for export-equivalence checks, (3, size, size, 3) uint8: the bundled
    sample's face, its mirror image, and seeded noise."""
    import cv2

    from unswap.faces.detect import detect_faces

    sample = Path(__file__).parents[1] / "samples" / "astronaut.jpg"
    img = np.ascontiguousarray(cv2.imread(str(sample))[:, :, ::-1])
    box = crop_box(detect_faces(img).landmarks[0])
    # OpenCV's SIMD warpAffine rounds differently from one CPU to another (the exporting
    # machine's crops and this AMD EPYC's were a grey level apart, logits up to 0.07); its
    # plain C path gives the same crop everywhere, so the check's face crop is made on it.
    # The switch is process-wide: it is held for the one warp only.
    optimized = cv2.useOptimized()
    cv2.setUseOptimized(False)
    try:
        face = crop(img, box, size)
    finally:
        cv2.setUseOptimized(optimized)
    noise = np.random.default_rng(0).integers(0, 256, (size, size, 3), dtype=np.uint8)
    return np.stack([face, face[:, ::-1], noise])


@dataclass(frozen=True, kw_only=True)
class DetectorConfig:
    """What a checkpoint folder's ``config.json`` says about its weights, by group; built
    by name (``from_file``, or ``dataclasses.replace`` of one)."""

    # what it is: ``name.version`` is its id in the registry
    name: str
    version: str
    description: str = ""  # one sentence: what the detector is and how it differs from the others
    model_file: str = "model.onnx"  # relative to the config's folder
    # what the network sees: crops of input_size px, normalised by mean and std (0..1 scale);
    # with flip_tta the raw outputs of each crop and its mirror image are averaged
    input_size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    flip_tta: bool = False
    # where the crop lies around a face (``unswap.faces.align.crop_box``)
    side_per_scale: float
    center_below: float
    # calibrated p_fake = sigmoid(platt_a * logit + platt_b), assuming prior_fake of fakes
    platt_a: float = 1.0
    platt_b: float = 0.0
    prior_fake: float | None = None
    # the verdict (``label_for``): "fake" from threshold up, "real" (no sign of a swap found)
    # below real_below, "uncertain" between; older configs (real_below None): "uncertain"
    # within uncertain_margin of threshold. rates: error rates measured at these cuts, e.g.
    # {"outside": {"fpr": 0.04, "tpr": 0.55, "sets": "..."}, "val": {...}}; ``rates_sentence``
    threshold: float = 0.5
    real_below: float | None = None
    uncertain_margin: float = 0.0
    rates: dict = field(default_factory=dict)

    @classmethod
    def from_file(cls, path: Path) -> DetectorConfig:
        raw = json.loads(Path(path).read_text())
        return cls(
            name=raw["name"],
            version=raw["version"],
            input_size=int(raw["input_size"]),
            mean=tuple(raw["mean"]),
            std=tuple(raw["std"]),
            side_per_scale=float(raw["crop"]["side_per_scale"]),
            center_below=float(raw["crop"]["center_below"]),
            platt_a=float(raw.get("calibration", {}).get("a", 1.0)),
            platt_b=float(raw.get("calibration", {}).get("b", 0.0)),
            threshold=float(raw["threshold"]),
            uncertain_margin=float(raw.get("uncertain_margin", 0.0)),
            real_below=None if raw.get("real_below") is None else float(raw["real_below"]),
            prior_fake=None if raw.get("prior_fake") is None else float(raw["prior_fake"]),
            rates=dict(raw.get("rates", {})),
            flip_tta=bool(raw.get("test_time", {}).get("flip", False)),
            model_file=str(raw.get("model", "model.onnx")),
            description=str(raw.get("description", "")),
        )

    def label_for(self, p: float) -> str:
        """"fake", "uncertain" or "real" for a calibrated p_fake, by this config's cuts."""
        return label_for(p, self.threshold, self.uncertain_margin, self.real_below)

    def rates_sentence(self) -> str | None:
        """The detector's measured error rates in plain sentences, or None where its
        config carries none. Where the config measures kinds of swap apart
        (``by_kind``: a list of {"kind", "tpr"}), each kind's catch rate is said, so a
        weak kind is not hidden in an average; ``fnr`` is the worst share of a set's
        swaps told "no sign of a swap"."""
        out = self.rates.get("outside")
        if not out:
            return None
        said = (f"On faces from outside its training data ({out.get('sets', 'held-out sets')}), this detector "
                f"called about {round(100 * out['fpr'])} in 100 real faces fake")
        kinds = out.get("by_kind")
        if not kinds:
            return f"{said}, and caught about {round(100 * out['tpr'])} in 100 face swaps."
        caught = [f"about {round(100 * k['tpr'])} in 100 {k['kind']}" for k in kinds]
        said += "; it caught " + (", ".join(caught[:-1]) + " and " + caught[-1] if len(caught) > 1 else caught[0]) + "."
        if out.get("fnr") is not None:
            said += (f" At most about {round(100 * out['fnr'])} in 100 swaps of any of these kinds were told "
                     f"\"no sign of a face swap\".")
        return said


class Detector(ABC):
    config: DetectorConfig

    @property
    def id(self) -> str:
        return f"{self.config.name}.{self.config.version}"

    def crop_box(self, landmarks: np.ndarray) -> np.ndarray:
        """Frame-pixel box [x0, y0, x1, y1] of the crop this detector sees for a face."""
        return crop_box(landmarks, self.config.side_per_scale, self.config.center_below)

    def crop_faces(self, image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
        """(N, S, S, 3) uint8 crops of the faces with (N, 5, 2) ``landmarks`` in ``image``."""
        s = self.config.input_size
        out = np.empty((len(landmarks), s, s, 3), np.uint8)
        for i, lm in enumerate(landmarks):
            out[i] = crop(image, self.crop_box(lm), s)
        return out

    def resize_faces(self, faces: list[np.ndarray]) -> np.ndarray:
        """(N, S, S, 3) uint8 from crops already in this geometry (shared-layout faces)."""
        return np.stack([resize_crop(f, self.config.input_size) for f in faces])

    def preprocess(self, crops: np.ndarray) -> np.ndarray:
        """(N, S, S, 3) uint8 RGB -> (N, 3, S, S) float32 normalised."""
        mean = np.asarray(self.config.mean, np.float32) * 255
        std = np.asarray(self.config.std, np.float32) * 255
        x = (crops.astype(np.float32) - mean) / std
        return np.ascontiguousarray(x.transpose(0, 3, 1, 2))

    @abstractmethod
    def forward(self, batch: np.ndarray) -> np.ndarray:
        """(N, 3, S, S) float32 -> (N,) raw logits."""

    def forward_regions(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """(N, 3, S, S) float32 -> raw logits (N,) and region-map logits (N, M, M), or
        None for a detector without a region output."""
        return self.forward(batch), None

    def postprocess(self, logits: np.ndarray) -> np.ndarray:
        """Raw logits -> calibrated p_fake in 0..1 (Platt scaling fitted on val)."""
        return sigmoid(self.config.platt_a * np.asarray(logits, np.float64) + self.config.platt_b)

    def raw(self, crops: np.ndarray, batch_size: int = 32, regions: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
        """(N, S, S, 3) uint8 crops -> uncalibrated logits (N,) and, with ``regions`` and
        a detector that has them, region-map logits (N, M, M); else None.

        With ``flip_tta`` each crop and its mirror image go through the network in one
        batch and their outputs are averaged (the mirror's region map mirrored back).
        """
        if len(crops) == 0:
            return np.zeros((0,), np.float64), None
        logits, maps = [], []
        for i in range(0, len(crops), batch_size):
            x = self.preprocess(crops[i : i + batch_size])
            n = len(x)
            if self.config.flip_tta:
                x = np.concatenate([x, x[..., ::-1]])
            z, r = self.forward_regions(x) if regions else (self.forward(x), None)
            if self.config.flip_tta:
                z = (z[:n] + z[n:]) / 2
                r = None if r is None else (r[:n] + r[n:, :, ::-1]) / 2
            logits.append(z)
            maps.append(r)
        z = np.concatenate(logits)
        return z, None if maps[0] is None else np.concatenate(maps)

    def score(self, crops: np.ndarray, batch_size: int = 32) -> np.ndarray:
        """(N, S, S, 3) uint8 crops -> (N,) calibrated p_fake."""
        return self.postprocess(self.raw(crops, batch_size)[0])

    def score_regions(self, crops: np.ndarray, batch_size: int = 32) -> tuple[np.ndarray, np.ndarray | None]:
        """(N, S, S, 3) uint8 crops -> calibrated p_fake (N,) and, for detectors that
        have one, the region map (N, M, M) float32 in 0..1: how likely each cell of the
        crop (an M x M grid over it) was blended in. None otherwise."""
        z, r = self.raw(crops, batch_size, regions=True)
        return self.postprocess(z), None if r is None else sigmoid(r).astype(np.float32)
