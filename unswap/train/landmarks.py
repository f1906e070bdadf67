"""Landmarks of the shared training crops, found by YuNet on a padded copy.

The crops are so tight that YuNet needs a margin to see the face; faces it still
misses get the mean landmark layout of the crops where it succeeded.
"""

from __future__ import annotations

import cv2
import numpy as np

from unswap.faces.detect import detect_faces


def crop_landmarks(crop_rgb: np.ndarray, pad_frac: float = 0.5) -> np.ndarray | None:
    """(5, 2) landmarks in crop pixels, or None when no face is found."""
    h, w = crop_rgb.shape[:2]
    p = round(pad_frac * max(h, w))
    padded = cv2.copyMakeBorder(crop_rgb, p, p, p, p, cv2.BORDER_CONSTANT, value=(0, 0, 0))
    faces = detect_faces(padded, min_confidence=0.5, max_side=max(padded.shape[:2]))
    if len(faces) == 0:
        return None
    centre = np.array([p + w / 2, p + h / 2])
    centres = (faces.boxes[:, :2] + faces.boxes[:, 2:]) / 2
    best = int(np.argmin(np.linalg.norm(centres - centre, axis=1) - 10 * faces.scores))
    return faces.landmarks[best] - p
