"""EfficientNet-Lite0 trained on self-blended images, run by ONNX Runtime."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from unswap.detectors.base import Detector, DetectorConfig
from unswap.detectors.registry import register_detector

WEIGHTS = Path(__file__).parent / "weights"


class OnnxDetector(Detector):
    """A classifier exported to ONNX with a ``config.json`` beside it: first output the
    logit (N,) or (N, 1); an optional second output, region-map logits (N, M, M)."""

    def __init__(self, folder: Path, threads: int | None = None):
        import onnxruntime as ort

        self.folder = Path(folder)
        self.config = DetectorConfig.from_file(self.folder / "config.json")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or min(4, os.cpu_count() or 1)
        # Idle pool threads sleep rather than spin: during a scan the cores are busy
        # decoding, and spinning only takes time from it (scoring is no slower for it).
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        providers = [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in ort.get_available_providers()]
        self.session = ort.InferenceSession(str(self.folder / self.config.model_file), opts, providers=providers)
        self._input = self.session.get_inputs()[0].name
        self._outputs = [o.name for o in self.session.get_outputs()]

    def forward(self, batch: np.ndarray) -> np.ndarray:
        return self.session.run(self._outputs[:1], {self._input: batch})[0].reshape(-1)

    def forward_regions(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        if len(self._outputs) < 2:
            return self.forward(batch), None
        logit, regions = self.session.run(self._outputs[:2], {self._input: batch})
        return logit.reshape(-1), regions


@register_detector("effnetlite0_sbi.v1")
def effnetlite0_sbi_v1(**kwargs) -> Detector:
    return OnnxDetector(WEIGHTS / "effnetlite0_sbi.v1", **kwargs)


@register_detector("effnetlite0_sbi.v2")
def effnetlite0_sbi_v2(**kwargs) -> Detector:
    """v1's network with a second output, the region map, trained on the self-blend masks."""
    return OnnxDetector(WEIGHTS / "effnetlite0_sbi.v2", **kwargs)


@register_detector("effnetlite0_sbi.v3")
def effnetlite0_sbi_v3(**kwargs) -> Detector:
    """v2's weights scoring each face and its mirror image (test-time flip), calibrated
    afresh on val (scripts/derive_variant.py)."""
    return OnnxDetector(WEIGHTS / "effnetlite0_sbi.v3", **kwargs)


@register_detector("effnetlite0_mixed.v4")
def effnetlite0_mixed_v4(**kwargs) -> Detector:
    """EfficientNet-Lite0 trained on mixed batches: DFDC reals and labelled swaps,
    FairFace reals, and self-blends of both kinds of real face; a three-way verdict set
    around false accusations (scripts/set_verdict.py)."""
    return OnnxDetector(WEIGHTS / "effnetlite0_mixed.v4", **kwargs)


@register_detector("effnetlite0_mixed.v5")
def effnetlite0_mixed_v5(**kwargs) -> Detector:
    """v4's weights run once on 192x192 crops of the same face region instead of twice
    (face and mirror image) on 160x160 ones: more of a high-resolution face's detail
    reaches the network, which ranks the swaps from outside DFDC better, for 0.72 of v4's
    compute (scripts/derive_variant.py, then scripts/set_verdict.py)."""
    return OnnxDetector(WEIGHTS / "effnetlite0_mixed.v5", **kwargs)


@register_detector("effnetlite0_mixed.v6")
def effnetlite0_mixed_v6(**kwargs) -> Detector:
    """v4's recipe trained about eight times longer on a lent GPU (512,000 faces, 128 a
    step), natively at 176x176: one pass a face at 1.21 times the compute of one at 160.
    Much stronger on DFDC and FaceForensics++ than v4 and v5, weaker on inswapper's swaps
    (MODEL_CARD.md)."""
    return OnnxDetector(WEIGHTS / "effnetlite0_mixed.v6", **kwargs)
