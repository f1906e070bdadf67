"""The face crop the detector sees, shared by the scan path and training.

Convention: images are (H, W, 3) uint8 RGB, pixel (0, 0) is the top-left corner of
the top-left pixel, x grows right, y grows down. Landmarks are (5, 2) float arrays in
YuNet order: right eye, left eye, nose tip, right mouth corner, left mouth corner
(the subject's right, so the first point is on the image's left).

The shared training faces (``faces/`` in the team data) are tight, axis-aligned square
boxes around the inner face resized to 224x224. ``crop_box`` reproduces that geometry
from five landmarks; its two constants were measured on the ``train`` split by
``scripts/calibrate_crop.py``, in git history at commit 3e40011 (YuNet landmarks on each padded crop, least squares).
"""

from __future__ import annotations

import cv2
import numpy as np

CROP = 224  # the side of the shared training crops (landmarks of training faces are in its pixels)

# Crop side = SIDE_PER_SCALE * face scale, where face scale is the mean of the eye
# distance and the eye-to-mouth distance. The crop centre lies CENTER_BELOW face scales
# below the midpoint of the eye centre and the mouth centre.
SIDE_PER_SCALE = 2.39
CENTER_BELOW = 0.02


def face_scale(landmarks: np.ndarray) -> float:
    """Mean of inter-ocular and eye-to-mouth distances, in pixels."""
    lm = np.asarray(landmarks, np.float64).reshape(5, 2)
    eyes = (lm[0] + lm[1]) / 2
    mouth = (lm[3] + lm[4]) / 2
    return float((np.linalg.norm(lm[1] - lm[0]) + np.linalg.norm(mouth - eyes)) / 2)


def crop_box(
    landmarks: np.ndarray, side_per_scale: float = SIDE_PER_SCALE, center_below: float = CENTER_BELOW
) -> np.ndarray:
    """Square crop box [x0, y0, x1, y1] (float pixels) for a face given its landmarks."""
    lm = np.asarray(landmarks, np.float64).reshape(5, 2)
    scale = face_scale(lm)
    eyes = (lm[0] + lm[1]) / 2
    mouth = (lm[3] + lm[4]) / 2
    cx, cy = (eyes + mouth) / 2 + np.array([0.0, center_below * scale])
    half = side_per_scale * scale / 2
    return np.array([cx - half, cy - half, cx + half, cy + half])


def crop(image: np.ndarray, box: np.ndarray, size: int) -> np.ndarray:
    """Resample ``box`` of ``image`` to a ``size`` x ``size`` crop.

    Outside the image the border pixels are repeated, so faces at the frame edge still
    give a full crop. Bilinear; shrinking by more than 2x first area-filters the region.
    """
    x0, y0, x1, y1 = (float(v) for v in box)
    sx = size / max(x1 - x0, 1e-6)
    sy = size / max(y1 - y0, 1e-6)
    crop_from_image = np.array([[sx, 0, -x0 * sx], [0, sy, -y0 * sy]], np.float64)
    if sx < 0.5:
        # Down to half size a bilinear warp is fine (and is what the shipped detector
        # was trained with); below that it aliases, and warpAffine has no area filter,
        # so shrink the region to the crop's scale with cv2.resize first.
        ix0, iy0 = max(int(np.floor(x0)), 0), max(int(np.floor(y0)), 0)
        ix1, iy1 = min(int(np.ceil(x1)), image.shape[1]), min(int(np.ceil(y1)), image.shape[0])
        if ix1 > ix0 and iy1 > iy0:
            f = sx
            region = cv2.resize(image[iy0:iy1, ix0:ix1], None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
            rx = region.shape[1] / (ix1 - ix0)
            ry = region.shape[0] / (iy1 - iy0)
            nb = np.array([(x0 - ix0) * rx, (y0 - iy0) * ry, (x1 - ix0) * rx, (y1 - iy0) * ry])
            return crop(region, nb, size)
    return cv2.warpAffine(
        image, crop_from_image, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )


def resize_crop(face: np.ndarray, size: int) -> np.ndarray:
    """A crop already in this geometry (a shared-layout face) at ``size`` x ``size``."""
    h, w = face.shape[:2]
    return crop(face, np.array([0.0, 0.0, w, h]), size)
