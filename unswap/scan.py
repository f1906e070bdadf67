"""The library's front door: ``Scanner(ScanConfig()).scan(path) -> ScanResult``.

Stages: media decode (with shot cuts) -> face detect -> track -> crop -> score ->
aggregate, then the file's Content Credentials beside the verdict.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from unswap import __version__
from unswap.aggregate import Verdict, file_verdict, score_segments, score_tracks
from unswap.detectors import DEFAULT_DETECTOR, Detector, create_detector, list_detectors
from unswap.faces.align import crop
from unswap.faces.detect import detect_faces
from unswap.faces.track import FaceTracker
from unswap.media import DEFAULT_SAMPLE_FPS, MAX_SAMPLE_FPS, DecodeBudget, DecodeLimits, frames, planned_frames, probe
from unswap.options import Option, Options
from unswap.prefetch import prefetch
from unswap.shots import ShotDetector, shot_spans
from unswap.types import MediaInfo, Track

MIN_FACE_PX = 64.0
"""Faces narrower than this (box width, frame pixels) are too small to judge: see docs/face-size.md."""


@dataclass(frozen=True)
class ScanConfig:
    """Every knob of a scan; built alike by the library, the CLI and any service."""

    detector: str = DEFAULT_DETECTOR
    sample_fps: float = DEFAULT_SAMPLE_FPS
    every_frame: bool = False
    max_frames: int | None = None
    min_face_confidence: float = 0.6
    min_face_px: float = MIN_FACE_PX  # narrower faces are kept as "too-small", never scored
    batch_size: int = 8  # faces scored together; small, so scoring overlaps decoding
    keep_crops: int = 0  # keep this many most-suspect face crops per track (for reports)
    crop_px: int = 256  # side of a kept crop
    thumb_px: int = 640  # longer side of a kept full-frame thumbnail (with keep_crops)
    region_level: float = 0.5  # region-map value that counts a cell as blended in
    provenance: bool = True  # read the file's C2PA Content Credentials too
    decode: DecodeLimits = DecodeLimits()  # a file past these gets OverBudget, not minutes of decoding

    def __post_init__(self):
        OPTIONS.check(self)


OPTIONS = Options(
    ScanConfig,
    Option("detector", str, "detector name, as 'unswap detectors' lists", choices=list_detectors),
    Option("sample_fps", float, "video frames scored per second", minimum=0, maximum=MAX_SAMPLE_FPS, above=True),
    Option("every_frame", bool, "score every video frame (slow)"),
    Option("max_frames", int, "score at most this many frames per video", minimum=1, maximum=1_000_000,
           optional=True),
    Option("min_face_px", float, "faces narrower than this (pixels) are reported as too small to judge, "
           "never scored; see docs/face-size.md", minimum=0, maximum=4096),
)
"""The ``ScanConfig`` fields a user sets (CLI flags, the service's form fields), in order."""


@dataclass
class ScanResult:
    path: str
    media: MediaInfo
    verdict: Verdict
    tracks: list[Track]
    frames_scored: int
    detector: str
    threshold: float
    tool_version: str = __version__
    # track id -> [(observation index, (crop_px, crop_px, 3) uint8 RGB crop)], most suspect
    # first; the crop has the detector's crop geometry, so a region map overlays it
    crops: dict[int, list[tuple[int, np.ndarray]]] = field(default_factory=dict)
    # (start_s, end_s) of each shot, in order; a track's ``shot`` indexes this
    shots: list[tuple[float, float]] = field(default_factory=list)
    min_face_px: float = MIN_FACE_PX
    # the file's Content Credentials (``unswap.evidence.provenance.Provenance``), None
    # when it carries no C2PA manifest or they were not read
    provenance: object | None = None
    # whether the scan looked for them (``ScanConfig.provenance``), and, where they could
    # not be read, why (one line): a report shows what the scan found, not a second reading
    provenance_read: bool = False
    provenance_error: str | None = None
    # the detector's ``DetectorConfig`` (thresholds, prior, measured error rates)
    detector_config: object | None = None
    # with keep_crops: shot index -> (frame index, t, RGB thumbnail, longer side at most
    # ``thumb_px``) of the frame of that shot where the most faces were seen
    keyframes: dict[int, tuple[int, float, np.ndarray]] = field(default_factory=dict)

    @property
    def faces_too_small(self) -> int:
        """Faces seen (over all sampled frames) too small to judge."""
        return sum(o.too_small for tr in self.tracks for o in tr.observations)

    @property
    def label(self) -> str:
        return self.verdict.label

    @property
    def p_fake(self) -> float | None:
        return self.verdict.p_fake


class Scanner:
    """Scans files with one detector. The detector's model loads at the first scan, while
    that file's first frames decode; an unknown detector name never gets here (``ScanConfig``
    refuses it)."""

    def __init__(self, config: ScanConfig = ScanConfig(), detector: Detector | None = None):
        self.config = config
        self._detector = detector

    @property
    def detector(self) -> Detector:
        if self._detector is None:
            self._detector = create_detector(self.config.detector)
        return self._detector

    def scan(self, path: str | Path, progress: Callable[[int, int | None], None] | None = None) -> ScanResult:
        """Scan one image or video. Raises ``MediaError`` for input that is not usable media.

        ``progress(frames_done, frames_expected)`` is called after each sampled frame.
        """
        cfg = self.config
        budget = DecodeBudget(path, cfg.decode)
        info = probe(path, budget)
        shots = ShotDetector()
        decoded = prefetch(
            frames(path, info, every_frame=cfg.every_frame, sample_fps=cfg.sample_fps, max_frames=cfg.max_frames,
                   shots=shots, budget=budget)
        )
        with decoded:
            result = self._scan(path, info, decoded, progress)
        last = max((o.t for tr in result.tracks for o in tr.observations), default=0.0)
        result.shots = shot_spans(shots.cuts, max(info.duration_s or 0.0, last))
        if cfg.provenance:
            result.provenance, result.provenance_error = check_provenance(path)
            result.provenance_read = True
        return result

    def _scan(self, path, info: MediaInfo, decoded: prefetch, progress) -> ScanResult:
        cfg, det = self.config, self.detector  # the model loads while the first frames decode
        tracker = FaceTracker()
        pending: list[tuple[int, int, np.ndarray, np.ndarray]] = []  # (track id, obs index, crop, crop box)
        kept: dict[int, list[tuple[int, np.ndarray]]] = {}
        keyframes: dict[int, tuple[int, float, np.ndarray]] = {}
        most_faces: dict[int, int] = {}
        n_frames = 0
        expected = planned_frames(
            info, every_frame=cfg.every_frame, sample_fps=cfg.sample_fps, max_frames=cfg.max_frames
        )

        def flush() -> None:
            if not pending:
                return
            ps, regions = det.score_regions(np.stack([c for _, _, c, _ in pending]), cfg.batch_size)
            for j, ((tid, k, _, box), p) in enumerate(zip(pending, ps)):
                obs = tracker.tracks[tid].observations[k]
                obs.p_fake = float(p)
                if regions is not None:
                    obs.region = regions[j]
                    obs.region_box = region_box(regions[j], box, cfg.region_level)
            pending.clear()
            for tid, items in kept.items():
                obs = tracker.tracks[tid].observations
                items.sort(key=lambda item: -(obs[item[0]].p_fake or 0.0))
                del items[cfg.keep_crops :]

        for frame in decoded:
            n_frames += 1
            faces = detect_faces(frame.image, cfg.min_face_confidence)
            small = (faces.boxes[:, 2] - faces.boxes[:, 0]) < cfg.min_face_px
            # a face cut by the picture's edge: its box says where it is seen, inside the picture
            h, w = frame.image.shape[:2]
            faces.boxes[:] = faces.boxes.clip(0, [w, h, w, h])
            ids = tracker.update(frame.index, frame.t, faces, frame.shot, small)
            if cfg.keep_crops and len(faces) > most_faces.get(frame.shot, -1):
                most_faces[frame.shot] = len(faces)
                keyframes[frame.shot] = (frame.index, frame.t, thumbnail(frame.image, cfg.thumb_px))
            judged = np.flatnonzero(~small)
            ids = [ids[j] for j in judged]
            crops = det.crop_faces(frame.image, faces.landmarks[judged])
            for tid, c, lm in zip(ids, crops, faces.landmarks[judged]):
                k = len(tracker.tracks[tid].observations) - 1
                box = det.crop_box(lm)
                pending.append((tid, k, c, box))
                if cfg.keep_crops:
                    kept.setdefault(tid, []).append((k, crop(frame.image, box, cfg.crop_px)))
            if len(pending) >= cfg.batch_size:
                flush()
            if progress:
                progress(n_frames, expected)
        flush()
        c = det.config
        score_tracks(tracker.tracks, c.label_for)
        score_segments(tracker.tracks, c.threshold)
        verdict = file_verdict(tracker.tracks, c.label_for, min_track_frames=min(2, n_frames))
        return ScanResult(str(path), info, verdict, tracker.tracks, n_frames, det.id, c.threshold, crops=kept,
                          min_face_px=cfg.min_face_px, detector_config=c, keyframes=keyframes)


def thumbnail(rgb: np.ndarray, longest: int) -> np.ndarray:
    """``rgb`` shrunk (never enlarged) so its longer side is at most ``longest`` pixels."""
    import cv2

    h, w = rgb.shape[:2]
    f = min(1.0, longest / max(h, w))
    if f == 1.0:
        return rgb.copy()
    return cv2.resize(rgb, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)


def check_provenance(path: str | Path) -> tuple[object | None, str | None]:
    """The file's Content Credentials as a scan reads them: (a ``Provenance``, None) when
    it carries an embedded C2PA manifest, (None, None) when it carries none, and (None,
    why) when they cannot be read (no C2PA reader installed, a manifest in a file type the
    reader does not handle, an unreadable file); ``why`` is one line.

    Most files carry none, so the bytes are looked through for a manifest store's label
    first, and the C2PA library is loaded only for files that have one."""
    from unswap.errors import MissingExtra
    from unswap.evidence.provenance import ProvenanceError, has_manifest_store, read_provenance

    try:
        if not has_manifest_store(Path(path)):
            return None, None
        found = read_provenance(path)
    except (ProvenanceError, MissingExtra) as err:
        return None, str(err)
    except OSError as err:
        return None, f"cannot read file ({err.strerror or err})"
    return (None if found.status == "none" else found), None


def region_box(region: np.ndarray, crop_box: np.ndarray, level: float = 0.5) -> np.ndarray | None:
    """Frame-pixel box [x0, y0, x1, y1] around the cells of an (M, M) region map at or
    above ``level``, the map lying on ``crop_box``; None when no cell reaches it."""
    ys, xs = np.nonzero(region >= level)
    if not len(xs):
        return None
    m = region.shape[0]
    x0, y0, x1, y1 = (float(v) for v in crop_box)
    cell_w, cell_h = (x1 - x0) / m, (y1 - y0) / m
    return np.array([x0 + xs.min() * cell_w, y0 + ys.min() * cell_h,
                     x0 + (xs.max() + 1) * cell_w, y0 + (ys.max() + 1) * cell_h], np.float32)

