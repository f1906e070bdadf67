"""What footage goes through outside, applied alike to every training face, real or
fake: a resolution round trip, blur or sharpening, colour shifts, noise, JPEG 30-95, and
a small shift of the crop. Then neither compression level, softness, colour nor the exact
crop of the source pipeline says which label a face has.

Images are (H, W, 3) uint8 RGB; masks (H, W) float32 follow the geometric part.
"""

from __future__ import annotations

import cv2
import numpy as np


def jitter_geometry(image: np.ndarray, mask: np.ndarray | None, rng: np.random.Generator,
                    scale: float = 0.06, shift: float = 0.04, degrees: float = 6.0):
    """A small random zoom, shift and roll of the crop (the scan's crop is not the source
    pipeline's); the same warp is applied to ``mask``."""
    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), rng.uniform(-degrees, degrees), rng.uniform(1 - scale, 1 + scale))
    m[:, 2] += rng.uniform(-shift, shift, 2) * np.array([w, h])
    out = cv2.warpAffine(image, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    if mask is not None:
        mask = cv2.warpAffine(mask, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    return out, mask


def colour_shift(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Brightness, contrast, saturation and gamma changes of a camera or a filter."""
    out = image.astype(np.float32)
    grey = out.mean(axis=2, keepdims=True)
    out = grey + (out - grey) * rng.uniform(0.6, 1.35)
    mean = out.mean()
    out = (out - mean) * rng.uniform(0.75, 1.25) + mean + rng.uniform(-20, 20)
    out = out * rng.uniform(0.94, 1.06, 3)
    out = 255.0 * (np.clip(out, 0, 255) / 255.0) ** rng.uniform(0.8, 1.25)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    _, buf = cv2.imencode(".jpg", np.ascontiguousarray(image[:, :, ::-1]), [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    return np.ascontiguousarray(cv2.imdecode(buf, cv2.IMREAD_COLOR)[:, :, ::-1])


def outside_world(image: np.ndarray, rng: np.random.Generator, strength: float = 1.0) -> np.ndarray:
    """A random chain of the degradations a shared clip goes through. ``strength`` (0..1)
    scales how often each step happens."""
    out = image
    h, w = out.shape[:2]
    if rng.random() < 0.35 * strength:
        f = rng.uniform(0.3, 0.9)
        small = cv2.resize(out, (max(8, round(w * f)), max(8, round(h * f))), interpolation=cv2.INTER_AREA)
        out = cv2.resize(small, (w, h), interpolation=(cv2.INTER_LINEAR, cv2.INTER_CUBIC)[int(rng.integers(2))])
    r = rng.random()
    if r < 0.2 * strength:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.4, 1.5))
    elif r < 0.35 * strength:
        blur = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.8, 2.0))
        a = rng.uniform(0.2, 0.9)
        out = cv2.addWeighted(out, 1 + a, blur, -a, 0)
    if rng.random() < 0.5 * strength:
        out = colour_shift(out, rng)
    if rng.random() < 0.2 * strength:
        noise = rng.normal(0, rng.uniform(1.5, 7), out.shape)
        out = np.clip(out.astype(np.float32) + noise, 0, 255).astype(np.uint8)
    if rng.random() < 0.75 * strength:
        out = jpeg(out, int(rng.integers(30, 96)))
    return np.ascontiguousarray(out)
