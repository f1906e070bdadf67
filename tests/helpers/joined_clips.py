"""A compilation built for the tests: the first seconds of several real clips, one after
another, as edited clips and compilations are (unswap never makes face swaps; these are
plain cuts between untouched clips)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av

from tests.helpers.media_files import VIDEO_CODEC

FPS = 30


def join_clips(clips: list[Path], out: Path, seconds: float = 4.0, size: tuple[int, int] = (960, 540)) -> list[float]:
    """Writes ``seconds`` of each clip, resized to ``size``, into one ``FPS`` fps file;
    returns the times (s) where each clip after the first starts."""
    per_clip = round(seconds * FPS)
    joins = []
    with av.open(str(out), "w") as dst:
        stream = dst.add_stream(VIDEO_CODEC, rate=FPS)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        if VIDEO_CODEC == "libx264":
            stream.options = {"preset": "ultrafast"}
        n = 0
        for k, clip in enumerate(clips):
            if k:
                joins.append(n / FPS)
            with av.open(str(clip)) as src:
                for i, frame in enumerate(src.decode(video=0)):
                    if i == per_clip:
                        break
                    picture = frame.reformat(width=size[0], height=size[1], format="yuv420p")
                    picture.pts, picture.time_base = n, Fraction(1, FPS)
                    dst.mux(stream.encode(picture))
                    n += 1
        dst.mux(stream.encode())
    return joins
