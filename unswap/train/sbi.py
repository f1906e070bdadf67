"""Self-blended images (Shiohara & Yamasaki, CVPR 2022), written for unswap.

A real face is blended into a jittered copy of *itself* along a soft, face-shaped mask.
The result has no identity change at all, only the traces every face swap leaves at
the blend boundary: colour mismatch, a sharpness step, a slightly misaligned layer.
Nothing here puts one person's face onto another.

Images are (H, W, 3) uint8 RGB; landmarks are (5, 2) in YuNet order (see
``unswap.faces.align``).
"""

from __future__ import annotations

import cv2
import numpy as np


def face_mask(
    shape: tuple[int, int], landmarks: np.ndarray, rng: np.random.Generator, large_p: float = 0.0
) -> np.ndarray:
    """A soft face-shaped mask in 0..1, (H, W) float32, randomly deformed.

    An ellipse spanned by the eyes and mouth, its radius wobbled by low-frequency
    noise over the angle, eroded or dilated, then blurred by a random amount. With
    probability ``large_p`` the ellipse is grown by 15-45% so that its edge reaches
    the border of a tight crop, where a real swap's seam often lies.
    """
    h, w = shape
    lm = np.asarray(landmarks, np.float64).reshape(5, 2)
    eyes, mouth = (lm[0] + lm[1]) / 2, (lm[3] + lm[4]) / 2
    eye_dist = np.linalg.norm(lm[1] - lm[0])
    em_dist = np.linalg.norm(mouth - eyes)
    scale = max((eye_dist + em_dist) / 2, 4.0)
    centre = (eyes + mouth) / 2 + np.array([0.0, rng.uniform(-0.15, 0.1) * scale])
    ax = rng.uniform(0.7, 1.1) * max(eye_dist, 0.6 * scale)
    ay = rng.uniform(0.9, 1.3) * max(em_dist, 0.6 * scale)
    if large_p and rng.random() < large_p:
        grow = rng.uniform(1.15, 1.45)
        ax, ay = ax * grow, ay * grow
    roll = np.arctan2(lm[1, 1] - lm[0, 1], lm[1, 0] - lm[0, 0])
    angles = np.linspace(0, 2 * np.pi, 64, endpoint=False)
    wobble = np.ones_like(angles)
    for k in (2, 3, 4):
        wobble += rng.uniform(-0.06, 0.06) * np.cos(k * angles + rng.uniform(0, 2 * np.pi))
    px = ax * wobble * np.cos(angles)
    py = ay * wobble * np.sin(angles)
    c, s = np.cos(roll), np.sin(roll)
    pts = np.stack([centre[0] + c * px - s * py, centre[1] + s * px + c * py], 1)
    mask = np.zeros((h, w), np.float32)
    cv2.fillPoly(mask, [np.round(pts).astype(np.int32)], 1.0)
    k = int(rng.integers(0, 3))
    if k:
        kern = np.ones((2 * k + 1, 2 * k + 1), np.uint8)
        mask = cv2.erode(mask, kern) if rng.random() < 0.5 else cv2.dilate(mask, kern)
    sigma = rng.uniform(0.02, 0.12) * scale
    mask = cv2.GaussianBlur(mask, (0, 0), sigma)
    if rng.random() < 0.5:
        # a harder edge: re-threshold the blurred mask and blur a little again
        mask = cv2.GaussianBlur((mask > rng.uniform(0.3, 0.7)).astype(np.float32), (0, 0), max(0.5, sigma / 3))
    return np.clip(mask, 0.0, 1.0)


def jitter_source(image: np.ndarray, rng: np.random.Generator, smooth_p: float = 0.0) -> np.ndarray:
    """The copy that gets blended in: colour, frequency and geometry jitter.

    Frequency jitter is a blur, a sharpen or a low-resolution round trip: face-swap
    tools render the new face at a lower resolution than the frame around it. With
    probability ``smooth_p`` the copy is also smoothed by an edge-preserving (bilateral)
    filter, which keeps the face's edges but wipes out skin texture, as a face-swap
    decoder's rendering does. (At 0, no random number is drawn for it, so older recipes
    see the same stream.)
    """
    h, w = image.shape[:2]
    out = image.astype(np.float32)
    # colour: per-channel gain and shift, global brightness/contrast
    out = out * rng.uniform(0.88, 1.12, 3) + rng.uniform(-15, 15, 3)
    mean = out.mean()
    out = (out - mean) * rng.uniform(0.85, 1.15) + mean + rng.uniform(-12, 12)
    out = np.clip(out, 0, 255).astype(np.uint8)
    out = frequency_jitter(out, rng, smooth_p)
    # geometry: small scale and shift
    s = rng.uniform(0.95, 1.05)
    tx, ty = rng.uniform(-0.03, 0.03, 2) * np.array([w, h])
    m = np.array([[s, 0, (1 - s) * w / 2 + tx], [0, s, (1 - s) * h / 2 + ty]], np.float64)
    return cv2.warpAffine(out, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def frequency_jitter(image: np.ndarray, rng: np.random.Generator, smooth_p: float = 0.0) -> np.ndarray:
    """A blur, a sharpen, a low-resolution round trip or nothing, then with probability
    ``smooth_p`` an edge-preserving smoothing (see ``jitter_source``)."""
    h, w = image.shape[:2]
    out = image
    r = rng.random()
    if r < 0.25:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.5, 1.4))
    elif r < 0.5:
        blur = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.8, 1.6))
        out = cv2.addWeighted(out, 1 + rng.uniform(0.3, 1.0), blur, -rng.uniform(0.3, 1.0), 0)
    elif r < 0.85:
        f = rng.uniform(0.25, 0.6)
        small = cv2.resize(out, (max(8, round(w * f)), max(8, round(h * f))), interpolation=cv2.INTER_AREA)
        out = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR if rng.random() < 0.5 else cv2.INTER_CUBIC)
    if smooth_p and rng.random() < smooth_p:
        out = smooth_texture(out, rng)
    return out


def smooth_texture(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Edge-preserving smoothing of random strength: flat skin, kept outlines."""
    d = int(rng.choice([5, 7, 9]))
    return cv2.bilateralFilter(image, d, rng.uniform(20, 60), rng.uniform(3, 8))


def blend(inner: np.ndarray, outer: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``inner * mask + outer * (1 - mask)``, rounded to uint8; mask is (H, W) in 0..1."""
    m = mask[..., None].astype(np.float32)
    out = inner.astype(np.float32) * m + outer.astype(np.float32) * (1 - m)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def self_blend(
    image: np.ndarray, landmarks: np.ndarray, rng: np.random.Generator, large_mask_p: float = 0.0,
    smooth_p: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """(blended image, mask): ``image`` blended with a jittered copy of itself.

    The mask (scaled by a random blend ratio) weighs the inner layer; which layer is
    the jittered copy, inner or outer, is drawn at random, as in the paper.
    """
    inner, outer = jitter_source(image, rng, smooth_p), image
    if rng.random() < 0.5:
        inner, outer = outer, jitter_source(image, rng, smooth_p)
    mask = face_mask(image.shape[:2], landmarks, rng, large_mask_p)
    mask *= rng.choice([0.25, 0.5, 0.75, 1.0, 1.0, 1.0])
    return blend(inner, outer, mask), mask


def degrade(
    image: np.ndarray,
    rng: np.random.Generator,
    downscale_p: float = 0.3,
    downscale: tuple[float, float] = (0.4, 0.8),
) -> np.ndarray:
    """Post-processing seen in the wild, applied alike to real and blended faces:
    a low-resolution round trip (probability ``downscale_p``, size factor in
    ``downscale``), JPEG at quality 40-95, noise."""
    out = image
    if rng.random() < downscale_p:
        h, w = out.shape[:2]
        f = rng.uniform(*downscale)
        small = cv2.resize(out, (max(8, int(w * f)), max(8, int(h * f))), interpolation=cv2.INTER_AREA)
        out = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    if rng.random() < 0.5:
        q = int(rng.integers(40, 96))
        _, buf = cv2.imencode(".jpg", out[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, q])
        out = cv2.imdecode(buf, cv2.IMREAD_COLOR)[:, :, ::-1]
    if rng.random() < 0.1:
        out = np.clip(out.astype(np.float32) + rng.normal(0, rng.uniform(2, 6), out.shape), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(out)
