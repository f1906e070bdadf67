"""Small media files built in code for the tests (seeded, a few KB each)."""

from __future__ import annotations

import struct
import zlib
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

VIDEO_CODEC = "libx264" if "libx264" in av.codecs_available else "mpeg4"
N_FRAMES, FPS, W, H = 50, 25, 64, 48


def rgb(h: int = 30, w: int = 40, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def level(index: int) -> int:
    """Grey level painted on video frame ``index``, so a decoded frame shows which one it is."""
    return 20 + 4 * index


def write_video(
    path: Path, *, rotation: int = 0, hflip: bool = False, vflip: bool = False, faststart: bool = True
) -> Path:
    """A 2 s, 25 fps, 64x48 clip: frame i is grey level(i) with a white top-left quadrant
    and a seeded noise strip at the bottom (so the file has some bulk to truncate).
    ``rotation`` is PyAV's display rotation, counter-clockwise degrees; ``hflip`` and
    ``vflip`` mirror after it, in the display matrix."""
    rng = np.random.default_rng(0)
    options = {"movflags": "faststart"} if faststart else {}
    with av.open(str(path), "w", options=options) as out:
        stream = out.add_stream(VIDEO_CODEC, rate=FPS)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        if rotation or hflip or vflip:
            stream.set_display_rotation(rotation, hflip=hflip, vflip=vflip)
        for i in range(N_FRAMES):
            img = np.full((H, W, 3), level(i), np.uint8)
            img[: H // 2, : W // 2] = 255
            img[-8:] = rng.integers(0, 256, (8, W, 3), dtype=np.uint8)
            out.mux(stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")))
        out.mux(stream.encode())
    return path


def write_anamorphic_video(path: Path, upright: np.ndarray, pixel_aspect: Fraction, n_frames: int = 6) -> Path:
    """A clip that shows ``upright`` (H, W, 3) RGB, stored squeezed or stretched sideways
    into pixels of width/height ``pixel_aspect`` (the sample aspect ratio), as DVD and
    broadcast video is; the stored width is rounded to even for the encoder."""
    h, w = upright.shape[:2]
    stored_w = 2 * round(w / pixel_aspect / 2)
    stored = np.asarray(Image.fromarray(upright).resize((stored_w, h), Image.Resampling.LANCZOS))
    with av.open(str(path), "w") as out:
        stream = out.add_stream(VIDEO_CODEC, rate=FPS)
        stream.width, stream.height, stream.pix_fmt = stored_w, h, "yuv420p"
        stream.codec_context.sample_aspect_ratio = pixel_aspect
        for _ in range(n_frames):
            out.mux(stream.encode(av.VideoFrame.from_ndarray(stored, format="rgb24")))
        out.mux(stream.encode())
    return path


def png_claiming(path: Path, width: int, height: int) -> Path:
    """A small valid PNG whose IHDR (with a fixed CRC) claims ``width`` x ``height``."""
    Image.fromarray(rgb(8, 8)).save(path)
    data = bytearray(path.read_bytes())
    data[16:24] = struct.pack(">II", width, height)  # IHDR data starts after signature, length, type
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    path.write_bytes(bytes(data))
    return path


def not_media(tmp_path: Path, case: str) -> Path:
    if case == "text":
        path = tmp_path / "x.mp4"
        path.write_text("this is not a video\n" * 20)
    elif case == "empty":
        path = tmp_path / "empty.jpg"
        path.touch()
    elif case == "directory":
        path = tmp_path / "folder.mp4"
        path.mkdir()
    else:
        path = tmp_path / "missing.mp4"
    return path
