"""Objects on the stage boundaries: numpy only, no torch.

Geometry convention everywhere: pixels of the *upright* frame (rotation and mirroring
metadata and EXIF orientation already applied, non-square pixels resampled to square), origin at the top-left corner, boxes as
[x0, y0, x1, y1], images as (H, W, 3) uint8 RGB.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

PathLike = str | os.PathLike[str]
"""A file path as the public functions take it: a string or a path object."""


@dataclass(frozen=True)
class MediaInfo:
    """What a file is. ``fps`` and ``duration_s`` are None for still images."""

    path: str
    kind: str  # "image" or "video"
    width: int
    height: int
    fps: float | None = None
    duration_s: float | None = None
    frame_count: int | None = None
    rotation: int = 0  # degrees clockwise applied to make the frame upright
    mirrored: bool = False  # mirrored left-right after the rotation (display matrix, EXIF 2/4/5/7)
    pixel_aspect: float = 1.0  # width over height of a stored pixel; frames are resampled to square

    def __post_init__(self) -> None:
        if self.kind not in ("image", "video"):
            raise ValueError(f"kind must be 'image' or 'video', not {self.kind!r}")
        if self.width <= 0 or self.height <= 0:
            raise ValueError(f"bad frame size {self.width}x{self.height}")


@dataclass(frozen=True)
class Frame:
    """One decoded, upright frame; ``t`` is its presentation time in seconds, ``shot``
    the index of the shot (continuous take between cuts) it belongs to."""

    index: int
    t: float
    image: np.ndarray
    shot: int = 0

    def __post_init__(self) -> None:
        if self.image.ndim != 3 or self.image.shape[2] != 3 or self.image.dtype != np.uint8:
            raise ValueError(f"frame image must be (H, W, 3) uint8, got {self.image.shape} {self.image.dtype}")


@dataclass
class Faces:
    """Faces found in one frame.

    boxes: (N, 4) float32 [x0, y0, x1, y1]; landmarks: (N, 5, 2) float32 in YuNet order
    (right eye, left eye, nose, right mouth corner, left mouth corner);
    scores: (N,) float32 detection confidence in 0..1.
    """

    boxes: np.ndarray
    landmarks: np.ndarray
    scores: np.ndarray

    def __post_init__(self) -> None:
        self.boxes = np.asarray(self.boxes, np.float32).reshape(-1, 4)
        self.landmarks = np.asarray(self.landmarks, np.float32).reshape(-1, 5, 2)
        self.scores = np.asarray(self.scores, np.float32).reshape(-1)
        if not (len(self.boxes) == len(self.landmarks) == len(self.scores)):
            raise ValueError("boxes, landmarks and scores differ in length")

    @classmethod
    def empty(cls) -> Faces:
        return cls(np.zeros((0, 4)), np.zeros((0, 5, 2)), np.zeros((0,)))

    def __len__(self) -> int:
        return len(self.boxes)

    def __getitem__(self, index) -> Faces:
        idx = np.atleast_1d(np.arange(len(self))[index])
        return Faces(self.boxes[idx], self.landmarks[idx], self.scores[idx])


@dataclass
class FaceObservation:
    """One face of a track in one frame, with its score."""

    frame_index: int
    t: float
    box: np.ndarray  # (4,) float, upright-frame pixels
    landmarks: np.ndarray  # (5, 2)
    detection_score: float
    p_fake: float | None = None
    # where, for detectors with a region output: (M, M) float32 in 0..1 over the crop,
    # and the frame-pixel box of the cells at or above 0.5 (None when there are none)
    region: np.ndarray | None = None
    region_box: np.ndarray | None = None
    too_small: bool = False  # narrower than the scan's min_face_px: kept, never scored


@dataclass(frozen=True)
class Segment:
    """A span of a track judged swapped: first and last sampled frame times in seconds,
    the highest frame p_fake in it and how many sampled frames it spans."""

    start_s: float
    end_s: float
    p_fake_max: float
    frames: int


@dataclass
class Track:
    """One person's face over time within one shot. ``p_fake`` is the track verdict's
    probability, over its observations large enough to judge; ``label`` is "too-small"
    for a track none of whose faces was."""

    track_id: int
    observations: list[FaceObservation] = field(default_factory=list)
    p_fake: float | None = None
    label: str | None = None
    segments: list[Segment] = field(default_factory=list)
    shot: int = 0

    @property
    def start_s(self) -> float:
        return self.observations[0].t

    @property
    def end_s(self) -> float:
        return self.observations[-1].t
