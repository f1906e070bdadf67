"""Real transformations of one real clip, built in code for the matching tests.

From the first 10 s of a shared DFDC clip (a real, unmanipulated one): a library copy
(the "source"), a trimmed, rescaled, re-encoded copy (the "suspect"), a copy with the face
blurred and the borders cropped, and a still with the face pixelated. Plus unrelated clips:
seeded noise and a flat grey clip. Nothing here pastes one face onto another.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import numpy as np
from PIL import Image

from unswap.faces.detect import detect_faces

CODEC = "libx264" if "libx264" in av.codecs_available else "mpeg4"
SOURCE_SIZE = (960, 540)  # (W, H): half the 1080p original
TRIM = (3.0, 8.0)  # seconds of the source kept in the suspect
CROP = (6, 4)  # pixels cut from each side (x) and from top and bottom (y), at source size: PDQ
# tolerates little cropping (2% a side moves it by ~38 of 256 bits), the aligner any amount
STILL_T = 5.0
BLURRED_SCALE, STILL_SCALE = 0.5, 0.6


@dataclass(frozen=True)
class Clips:
    source: Path  # 960x540, 0-10 s, as the original
    suspect: Path  # 480x270, source 3-8 s, re-encoded
    blurred: Path  # source 3-8 s with the face blurred, borders cropped, scaled 0.5x, re-encoded
    box: tuple[int, int, int, int]  # the edited region in source pixels: the first face, grown
    last_face: tuple[int, int, int, int]  # the face at the end of the trim, in source pixels
    blurred_box: tuple[int, int, int, int]  # the edited region in blurred.mp4 pixels
    still: Path  # JPEG of the source frame at 5 s, face pixelated, cropped, scaled 0.6x
    still_box: tuple[int, int, int, int]
    noise: Path
    flat: Path


class _Writer:
    def __init__(self, path: Path, size: tuple[int, int], crf: int, fps: int = 30) -> None:
        self.path = path
        self.container = av.open(str(path), "w")
        self.stream = self.container.add_stream(CODEC, rate=fps)
        self.stream.width, self.stream.height = size
        self.stream.pix_fmt = "yuv420p"
        if CODEC == "libx264":
            self.stream.options = {"crf": str(crf), "preset": "ultrafast"}

    def add(self, rgb: np.ndarray) -> None:
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        self.container.mux(self.stream.encode(frame))

    def close(self) -> Path:
        self.container.mux(self.stream.encode())
        self.container.close()
        return self.path


def _cropped_scaled(box, scale: float) -> tuple[int, int, int, int]:
    """``box`` (source pixels) in a copy cropped by CROP, then scaled by ``scale``."""
    cx, cy = CROP
    x0, y0, x1, y1 = box
    return tuple(round(v * scale) for v in (x0 - cx, y0 - cy, x1 - cx, y1 - cy))


def _face_box(rgb: np.ndarray, margin: float) -> tuple[int, int, int, int]:
    """The most confident face's box, grown by ``margin`` of its size on every side."""
    faces = detect_faces(rgb)
    assert len(faces) >= 1, "the test clip should show a face"
    x0, y0, x1, y1 = faces.boxes[int(np.argmax(faces.scores))]
    w, h = x1 - x0, y1 - y0
    return (int(x0 - margin * w), int(y0 - margin * h), int(np.ceil(x1 + margin * w)),
            int(np.ceil(y1 + margin * h)))


def build(original: Path, out: Path) -> Clips:
    """Write the derived clips of ``original`` (a 1080p clip of 10 s or more) under ``out``."""
    w, h = SOURCE_SIZE
    cx, cy = CROP
    crop_size = (round((w - 2 * cx) * BLURRED_SCALE), round((h - 2 * cy) * BLURRED_SCALE))
    source = _Writer(out / "source.mp4", SOURCE_SIZE, crf=18)
    suspect = _Writer(out / "suspect.mp4", (w // 2, h // 2), crf=28)
    blurred = _Writer(out / "blurred.mp4", crop_size, crf=23)
    box = still_box = last_face = None
    still = out / "still.jpg"
    with av.open(str(original)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        origin = None
        for frame in container.decode(stream):
            origin = frame.pts if origin is None else origin
            t = float((frame.pts - origin) * stream.time_base)
            if t >= 10.0:
                break
            rgb = frame.to_ndarray(width=w, height=h, format="rgb24", interpolation="AREA")
            source.add(rgb)
            if not TRIM[0] - 1e-3 <= t < TRIM[1] - 1e-3:
                continue
            suspect.add(cv2.resize(rgb, (w // 2, h // 2), interpolation=cv2.INTER_AREA))
            if box is None:
                box = _face_box(rgb, margin=0.25)
            if t >= TRIM[1] - 0.1 and last_face is None:
                last_face = _face_box(rgb, margin=0.0)
            x0, y0, x1, y1 = box
            edited = rgb.copy()
            edited[y0:y1, x0:x1] = cv2.GaussianBlur(edited[y0:y1, x0:x1], (0, 0), 5)
            blurred.add(cv2.resize(edited[cy:h - cy, cx:w - cx], crop_size, interpolation=cv2.INTER_AREA))
            if still_box is None and t >= STILL_T:
                edited = rgb.copy()
                block = edited[y0:y1, x0:x1]
                small = cv2.resize(block, (max(1, (x1 - x0) // 12), max(1, (y1 - y0) // 12)),
                                   interpolation=cv2.INTER_AREA)
                edited[y0:y1, x0:x1] = cv2.resize(small, (x1 - x0, y1 - y0), interpolation=cv2.INTER_NEAREST)
                cropped = edited[cy:h - cy, cx:w - cx]
                size = (round(cropped.shape[1] * STILL_SCALE), round(cropped.shape[0] * STILL_SCALE))
                Image.fromarray(cv2.resize(cropped, size, interpolation=cv2.INTER_AREA)).save(still, quality=85)
                still_box = _cropped_scaled(box, STILL_SCALE)
    return Clips(source.close(), suspect.close(), blurred.close(), box, last_face,
                 _cropped_scaled(box, BLURRED_SCALE), still, still_box, noise_clip(out / "noise.mp4"),
                 flat_clip(out / "flat.mp4"))


def noise_clip(path: Path, seconds: float = 3.0, size: tuple[int, int] = (240, 136), seed: int = 5) -> Path:
    """Seeded colour noise, smoothed a little so it survives encoding: unrelated to any clip."""
    rng = np.random.default_rng(seed)
    writer = _Writer(path, size, crf=23)
    for _ in range(int(seconds * 30)):
        img = rng.integers(0, 256, (size[1] // 8, size[0] // 8, 3), dtype=np.uint8)
        writer.add(cv2.resize(img, size, interpolation=cv2.INTER_LINEAR))
    return writer.close()


def flat_clip(path: Path, seconds: float = 2.0, size: tuple[int, int] = (160, 96)) -> Path:
    """A flat grey clip: PDQ quality near 0, so its hashes must be ignored."""
    writer = _Writer(path, size, crf=23)
    for _ in range(int(seconds * 30)):
        writer.add(np.full((size[1], size[0], 3), 128, np.uint8))
    return writer.close()
