"""Shot boundaries (hard cuts), found while a video decodes, so no face track spans a cut.

Every decoded frame (not only the sampled ones) gives a tiny luma picture, read straight
from its Y plane without a colour conversion: about 64 samples on the shorter side. A cut
is a frame whose mean absolute luma difference to the frame decoded before it is at least
``min_change`` (of 255) and at least ``ratio`` times the median difference of the frames
just before, so a steady pan or a shaking camera, whose every frame differs, is no cut.
The first two differences of a video only set what is usual.

Measured on the shared DFDC clips (1080p and 720p, 10 s each): inside a clip the
difference between decoded frames stays under 10; from the last frame of one clip to the
first of another it is 41 to 77. PySceneDetect was the library candidate: its
ContentDetector needs a BGR picture of every frame (the scan converts only the sampled
ones) and converts each to HSV. ``tools/bench_shots.py`` on the 1080p clips, on a loaded
2-core machine: this test 0.5-1.7 ms a decoded frame, ContentDetector 29-36 ms on frames
converted at a quarter of each side and 144-253 ms at full size, about 150 decoded frames
a clip; so a library cut test would cost several seconds a clip against a decode of one.
"""

from __future__ import annotations

from collections import deque

import numpy as np

__all__ = ["ShotDetector", "luma_thumbnail", "shot_spans"]

SAMPLES = 64  # luma samples along the shorter side


# 8-bit pixel formats whose first plane is the luma, one byte a sample
_LUMA_FIRST = {"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "yuv411p", "yuv440p",
               "yuvj440p", "yuva420p", "nv12", "nv21", "gray"}


def luma_thumbnail(frame) -> np.ndarray:
    """A small (about 64 px on the shorter side) int16 luma picture of a PyAV VideoFrame:
    read from its Y plane where it has one of 8 bits, else converted to grey at that size."""
    if frame.format.name in _LUMA_FIRST:
        plane = frame.planes[0]
        step = max(1, min(plane.width, plane.height) // SAMPLES)
        rows = np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)
        return rows[::step, : plane.width : step].astype(np.int16)
    step = max(1, min(frame.width, frame.height) // SAMPLES)
    small = frame.reformat(width=max(1, frame.width // step), height=max(1, frame.height // step), format="gray")
    return small.to_ndarray().astype(np.int16)


def rgb_thumbnail(rgb: np.ndarray) -> np.ndarray:
    """The same small luma picture from an (H, W, 3) uint8 RGB image (animated images)."""
    step = max(1, min(rgb.shape[:2]) // SAMPLES)
    small = rgb[::step, ::step].astype(np.int32)
    return ((77 * small[..., 0] + 150 * small[..., 1] + 29 * small[..., 2]) >> 8).astype(np.int16)


class ShotDetector:
    """Feed ``feed(t, thumbnail)`` for every decoded frame in order; ``cuts`` holds the
    times (seconds) of the first frame of every shot after the first."""

    def __init__(self, min_change: float = 20.0, ratio: float = 3.0, history: int = 12):
        self.min_change = min_change
        self.ratio = ratio
        self.cuts: list[float] = []
        self._recent: deque[float] = deque(maxlen=history)
        self._prev: np.ndarray | None = None

    @property
    def shot(self) -> int:
        """Index of the shot the last fed frame belongs to (0 for the first)."""
        return len(self.cuts)

    def feed(self, t: float, thumbnail: np.ndarray) -> bool:
        """Take the next decoded frame; True when it starts a new shot."""
        prev, self._prev = self._prev, thumbnail
        if prev is None or prev.shape != thumbnail.shape:
            return False
        change = float(np.abs(thumbnail - prev).mean())
        # The first changes only set what is usual: a pan from the first frame is no cut.
        if len(self._recent) < 2 and not self.cuts:
            self._recent.append(change)
            return False
        usual = float(np.median(self._recent)) if self._recent else 0.0
        cut = change >= self.min_change and change >= self.ratio * usual
        if cut:
            self.cuts.append(t)
            self._recent.clear()
        else:
            self._recent.append(change)
        return cut


def shot_spans(cuts: list[float], end_s: float) -> list[tuple[float, float]]:
    """(start_s, end_s) of each shot from the cut times and the video's end."""
    starts = [0.0, *cuts]
    ends = [*cuts, max(end_s, starts[-1])]
    return list(zip(starts, ends))
