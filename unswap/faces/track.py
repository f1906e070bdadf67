"""Link per-frame faces into tracks: one track id per person and shot.

Greedy association on box IoU, falling back to centre distance relative to face size
(sampled frames can be half a second apart, and a face can cross its own width in
that time). A track that goes unmatched for longer than ``max_gap_s`` ends, and every
track ends at a shot cut: across a cut the face at the same place is most often another
person, so a track never spans one.
"""

from __future__ import annotations

import numpy as np

from unswap.types import FaceObservation, Faces, Track


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, M) IoU matrix of [x0, y0, x1, y1] boxes a (N, 4) and b (M, 4)."""
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    x0 = np.maximum(a[:, None, 0], b[None, :, 0])
    y0 = np.maximum(a[:, None, 1], b[None, :, 1])
    x1 = np.minimum(a[:, None, 2], b[None, :, 2])
    y1 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-6)


class FaceTracker:
    """Feed ``update(frame_index, t, faces)`` in time order; read ``tracks`` at the end."""

    def __init__(self, max_gap_s: float = 2.0, min_iou: float = 0.2, shift: float = 0.5, shift_per_s: float = 2.0):
        """Centres may move ``shift + shift_per_s * dt`` face sizes between frames dt s apart."""
        self.max_gap_s = max_gap_s
        self.min_iou = min_iou
        self.shift = shift
        self.shift_per_s = shift_per_s
        self.tracks: list[Track] = []

    def update(self, frame_index: int, t: float, faces: Faces, shot: int = 0,
               too_small: np.ndarray | None = None) -> list[int]:
        """Assign each face a track id; returns the ids in the order of ``faces``.

        ``shot`` is the frame's shot index: only tracks of the same shot continue.
        ``too_small`` (N,) bool marks faces kept but too small to judge."""
        live = [tr for tr in self.tracks if tr.shot == shot and t - tr.end_s <= self.max_gap_s]
        ids = [-1] * len(faces)
        if live and len(faces):
            last = np.stack([tr.observations[-1].box for tr in live])
            dt = t - np.array([tr.end_s for tr in live])
            cost = _affinity(last, faces.boxes, self.min_iou, self.shift + self.shift_per_s * dt)
            while True:
                i, j = np.unravel_index(np.argmax(cost), cost.shape)
                if cost[i, j] <= 0:
                    break
                ids[j] = live[i].track_id
                cost[i, :] = 0
                cost[:, j] = 0
        for j in range(len(faces)):
            if ids[j] < 0:
                self.tracks.append(Track(track_id=len(self.tracks), shot=shot))
                ids[j] = self.tracks[-1].track_id
            self.tracks[ids[j]].observations.append(
                FaceObservation(frame_index, t, faces.boxes[j].copy(), faces.landmarks[j].copy(), float(faces.scores[j]),
                                too_small=bool(too_small is not None and too_small[j]))
            )
        return ids


def _affinity(prev: np.ndarray, cur: np.ndarray, min_iou: float, max_shift: np.ndarray) -> np.ndarray:
    """Score > 0 for plausible (previous, current) pairs; higher is better.

    ``max_shift`` (len(prev),) is each previous face's allowed centre shift in face sizes.
    """
    iou = box_iou(prev, cur)
    pc = (prev[:, :2] + prev[:, 2:]) / 2
    cc = (cur[:, :2] + cur[:, 2:]) / 2
    size = np.sqrt((prev[:, 2] - prev[:, 0]) * (prev[:, 3] - prev[:, 1]))
    shift = np.linalg.norm(pc[:, None] - cc[None], axis=2) / np.maximum(size[:, None], 1.0)
    cur_size = np.sqrt((cur[:, 2] - cur[:, 0]) * (cur[:, 3] - cur[:, 1]))
    ratio = cur_size[None, :] / np.maximum(size[:, None], 1.0)
    limit = np.asarray(max_shift, np.float64)[:, None]
    close = (shift < limit) & (ratio > 0.6) & (ratio < 1.6)
    return np.where(iou >= min_iou, 1.0 + iou, np.where(close, 1.0 - shift / limit, 0.0))
