"""Inputs the fuzzer (tools/fuzz_media.py) found, each kept after its fix: every reader
gives its result or its own one-line error, never another exception."""

from __future__ import annotations

from pathlib import Path

from tests.helpers.paths import DATA
from unswap.media import MediaError, frames, probe

FINDS = DATA / "fuzz"


def _read_media(path: Path) -> int:
    try:
        info = probe(path)
        return sum(1 for _ in frames(path, info, every_frame=True, max_frames=8))
    except MediaError as e:
        assert "\n" not in str(e)
        return 0


def test_a_damaged_tiff_with_a_side_data_type_pyav_cannot_name():
    # FFmpeg's TIFF decoder attached side data of type 31; PyAV raised ValueError reading it
    _read_media(FINDS / "unknown_side_data.tif")


def test_a_gif_whose_later_frame_claims_gigapixels():
    # Pillow raised DecompressionBombError when seeking to the frame, outside the errors caught
    _read_media(FINDS / "gif_frame_over_pixel_limit.gif")
