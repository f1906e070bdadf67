"""The library's front door: ``Scanner(ScanConfig()).scan(path) -> ScanResult``.

Stages: media decode -> face detect -> track -> crop -> score -> aggregate.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from unswap import __version__
from unswap.aggregate import Verdict, file_verdict, score_tracks
from unswap.detectors import DEFAULT_DETECTOR, Detector, create_detector
from unswap.faces.detect import detect_faces
from unswap.faces.track import FaceTracker
from unswap.media import DEFAULT_SAMPLE_FPS, frames, probe
from unswap.prefetch import prefetch
from unswap.types import MediaInfo, Track


@dataclass(frozen=True)
class ScanConfig:
    """Every knob of a scan; built alike by the library, the CLI and any service."""

    detector: str = DEFAULT_DETECTOR
    sample_fps: float = DEFAULT_SAMPLE_FPS
    every_frame: bool = False
    max_frames: Optional[int] = None
    min_face_confidence: float = 0.6
    min_face_px: float = 24.0
    batch_size: int = 32


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

    @property
    def label(self) -> str:
        return self.verdict.label

    @property
    def p_fake(self) -> Optional[float]:
        return self.verdict.p_fake


class Scanner:
    def __init__(self, config: ScanConfig = ScanConfig(), detector: Detector | None = None):
        self.config = config
        self.detector = detector or create_detector(config.detector)

    def scan(self, path: str | Path, progress: Callable[[int, Optional[int]], None] | None = None) -> ScanResult:
        """Scan one image or video. Raises ``MediaError`` for input that is not usable media.

        ``progress(frames_done, frames_expected)`` is called after each sampled frame.
        """
        cfg, det = self.config, self.detector
        info = probe(path)
        tracker = FaceTracker()
        pending: list[tuple[int, int, np.ndarray]] = []  # (track id, obs index, crop)
        n_frames = 0
        expected = _expected_frames(info, cfg)

        def flush() -> None:
            if not pending:
                return
            ps = det.score(np.stack([c for _, _, c in pending]), cfg.batch_size)
            for (tid, k, _), p in zip(pending, ps):
                tracker.tracks[tid].observations[k].p_fake = float(p)
            pending.clear()

        decoded = frames(path, info, every_frame=cfg.every_frame, sample_fps=cfg.sample_fps, max_frames=cfg.max_frames)
        for frame in prefetch(decoded):
            n_frames += 1
            faces = detect_faces(frame.image, cfg.min_face_confidence)
            if len(faces):
                w = faces.boxes[:, 2] - faces.boxes[:, 0]
                faces = faces[w >= cfg.min_face_px]
            ids = tracker.update(frame.index, frame.t, faces)
            crops = det.crop_faces(frame.image, faces.landmarks)
            for tid, c in zip(ids, crops):
                pending.append((tid, len(tracker.tracks[tid].observations) - 1, c))
            if len(pending) >= cfg.batch_size:
                flush()
            if progress:
                progress(n_frames, expected)
        flush()
        c = det.config
        score_tracks(tracker.tracks, c.threshold, c.uncertain_margin)
        verdict = file_verdict(tracker.tracks, c.threshold, c.uncertain_margin, min_track_frames=min(2, n_frames))
        return ScanResult(str(path), info, verdict, tracker.tracks, n_frames, det.id, c.threshold)


def _expected_frames(info: MediaInfo, cfg: ScanConfig) -> Optional[int]:
    if info.kind == "image":
        return 1
    if cfg.every_frame:
        return info.frame_count
    if info.duration_s:
        n = max(1, int(round(info.duration_s * cfg.sample_fps)))
        return min(n, cfg.max_frames) if cfg.max_frames else n
    return None
