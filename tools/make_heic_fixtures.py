"""Writes the HEIC test photos in tests/data from the bundled public-domain sample.

unswap reads HEIC with pi-heif, which can only decode; writing needs pillow-heif (its
wheel carries libheif's encoder), so this is a developer's tool, run once:

    pip install pillow-heif && python tools/make_heic_fixtures.py

- ``astronaut_grid.heic``: the 512x512 sample as a 2x2 grid of 256x256 tiles, the layout
  of an iPhone photo (512x512 tiles there). libheif's grid encoder is not in pillow-heif's
  Python API, so it is called through ctypes.
- ``astronaut_portrait.heic``: a 384x512 portrait crop of the sample, stored turned to
  landscape with an ``irot`` rotation and EXIF orientation 6, as a phone held upright writes it.
"""

from __future__ import annotations

import ctypes
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "tests" / "data"

_HEIF_COLORSPACE_RGB, _HEIF_CHROMA_INTERLEAVED_RGB, _HEIF_CHANNEL_INTERLEAVED = 1, 10, 10
_HEIF_COMPRESSION_HEVC = 1


class _HeifError(ctypes.Structure):
    _fields_ = [("code", ctypes.c_int), ("subcode", ctypes.c_int), ("message", ctypes.c_char_p)]


def _libheif() -> ctypes.CDLL:
    import pillow_heif

    libs = Path(pillow_heif.__file__).parent.parent / "pillow_heif.libs"
    lib = ctypes.CDLL(str(next(libs.glob("libheif*.so*"))))
    for name in ("heif_image_create", "heif_image_add_plane", "heif_context_get_encoder_for_format",
                 "heif_encoder_set_lossy_quality", "heif_context_encode_grid", "heif_context_write_to_file"):
        getattr(lib, name).restype = _HeifError
    lib.heif_context_alloc.restype = ctypes.c_void_p
    lib.heif_image_get_plane.restype = ctypes.POINTER(ctypes.c_uint8)
    return lib


def _check(err: _HeifError) -> None:
    if err.code:
        raise RuntimeError(f"libheif: {err.message.decode()}")


def write_grid(rgb: np.ndarray, tile: int, path: Path, quality: int = 60) -> None:
    """``rgb`` (H, W, 3) uint8, H and W multiples of ``tile``, as a HEIC grid image."""
    lib = _libheif()
    rows, cols = rgb.shape[0] // tile, rgb.shape[1] // tile
    ctx = ctypes.c_void_p(lib.heif_context_alloc())
    tiles = (ctypes.c_void_p * (rows * cols))()
    for r in range(rows):
        for c in range(cols):
            image = ctypes.c_void_p()
            _check(lib.heif_image_create(tile, tile, _HEIF_COLORSPACE_RGB, _HEIF_CHROMA_INTERLEAVED_RGB,
                                         ctypes.byref(image)))
            _check(lib.heif_image_add_plane(image, _HEIF_CHANNEL_INTERLEAVED, tile, tile, 8))
            stride = ctypes.c_int()
            plane = ctypes.addressof(lib.heif_image_get_plane(image, _HEIF_CHANNEL_INTERLEAVED,
                                                              ctypes.byref(stride)).contents)
            block = np.ascontiguousarray(rgb[r * tile:(r + 1) * tile, c * tile:(c + 1) * tile])
            for y in range(tile):
                ctypes.memmove(plane + y * stride.value, block[y].ctypes.data, tile * 3)
            tiles[r * cols + c] = image
    encoder = ctypes.c_void_p()
    _check(lib.heif_context_get_encoder_for_format(ctx, _HEIF_COMPRESSION_HEVC, ctypes.byref(encoder)))
    _check(lib.heif_encoder_set_lossy_quality(encoder, quality))
    handle = ctypes.c_void_p()
    _check(lib.heif_context_encode_grid(ctx, tiles, ctypes.c_uint16(rows), ctypes.c_uint16(cols), encoder,
                                        None, ctypes.byref(handle)))
    _check(lib.heif_context_write_to_file(ctx, str(path).encode()))


def write_portrait(rgb: np.ndarray, path: Path, quality: int = 60) -> None:
    """``rgb`` shown upright, stored turned a quarter counter-clockwise; pillow-heif turns
    EXIF orientation 6 into an ``irot`` box."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: turn 90 degrees clockwise to show
    Image.fromarray(np.ascontiguousarray(np.rot90(rgb, 1))).save(path, exif=exif.tobytes(), quality=quality)


def main() -> None:
    sample = np.asarray(Image.open(REPO / "unswap" / "samples" / "astronaut.jpg").convert("RGB"))
    write_grid(sample, 256, OUT / "astronaut_grid.heic")
    write_portrait(sample[:, 64:448], OUT / "astronaut_portrait.heic")
    for name in ("astronaut_grid.heic", "astronaut_portrait.heic"):
        print(OUT / name, (OUT / name).stat().st_size, "bytes")


if __name__ == "__main__":
    main()
