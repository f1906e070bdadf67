"""Face detection with YuNet (``yuface`` wheel: weights compiled in, BSD-3, offline).

Chosen over MediaPipe (pins numpy<2, pulls JAX) and dlib's 68-point model
(non-commercial): YuNet is small, fast on a CPU (~13 ms a frame at 512 px here; 34 ms at 640) and gives the
five landmarks the crop geometry needs.
"""

from __future__ import annotations

import cv2
import numpy as np

from unswap.types import Faces

DETECT_MAX_SIDE = 512


def detect_faces(
    image: np.ndarray, min_confidence: float = 0.6, max_side: int = DETECT_MAX_SIDE
) -> Faces:
    """Find faces in an (H, W, 3) uint8 RGB image.

    The image is shrunk so its longer side is at most ``max_side`` for detection; boxes
    and landmarks come back in pixels of ``image``.
    """
    import yuface

    h, w = image.shape[:2]
    scale = min(1.0, max_side / max(h, w))
    small = image if scale == 1.0 else cv2.resize(
        image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA
    )
    bgr = np.ascontiguousarray(small[:, :, ::-1])
    raw = yuface.c_detect(bgr)
    if raw.size == 0:
        return Faces.empty()
    raw = raw.astype(np.float32)
    conf = raw[:, 0] / 100.0
    keep = conf >= min_confidence
    raw, conf = raw[keep], conf[keep]
    if len(raw) == 0:
        return Faces.empty()
    xywh = raw[:, 1:5] / scale
    boxes = np.stack([xywh[:, 0], xywh[:, 1], xywh[:, 0] + xywh[:, 2], xywh[:, 1] + xywh[:, 3]], 1)
    landmarks = raw[:, 5:15].reshape(-1, 5, 2) / scale
    return Faces(boxes=boxes, landmarks=landmarks, scores=conf)
