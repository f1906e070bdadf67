"""Fuzz the readers of untrusted input for N minutes: media decode (``probe`` and ``frames``),
the hash-file reader (``read_hashes``), the ``labels.csv`` reader of ``unswap eval --media``
(``read_labels``) and the face-set manifest reader (``read_manifest``,
the labels CSV of a face set).

Each reader must either give its result or raise its own one-line error (MediaError,
HashFileError, FaceSetError); any other exception, or an input that takes longer than
``--hang-s`` seconds, is a find. Media inputs are small real files (PNG, JPEG, GIF,
animated WebP, MP4, WebM) built here, with bytes overwritten, inserted, cut short or
spliced; text inputs are built from the formats' own lines with fields changed. Hypothesis
drives the choices and shrinks a find to a small input, which is written to --out and
printed; each is then kept as a regression test (tests/test_fuzz_finds.py).

    python tools/fuzz_media.py --minutes 10
"""

from __future__ import annotations

import argparse
import io
import logging
import shutil
import signal
import sys
import tempfile
import time
import traceback
import warnings
from pathlib import Path

import av
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from unswap.evidence.hashing import MAGIC, HashFileError, read_hashes
from unswap.facesets import FaceSetError, read_manifest
from unswap.mediasets import MediaSetError, read_labels
from unswap.media import MediaError, frames, probe


class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang()


def _image_bytes(fmt: str, **kw) -> bytes:
    rng = np.random.default_rng(0)
    pictures = [Image.fromarray(rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)) for _ in range(3)]
    buf = io.BytesIO()
    if kw.pop("animated", False):
        pictures[0].save(buf, fmt, save_all=True, append_images=pictures[1:], duration=100, **kw)
    else:
        pictures[0].save(buf, fmt, **kw)
    return buf.getvalue()


def _video_bytes(container: str, codec: str) -> bytes:
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"seed.{container}"
        with av.open(str(path), "w") as out:
            s = out.add_stream(codec, rate=10)
            s.width, s.height, s.pix_fmt = 32, 24, "yuv420p"
            for _ in range(6):
                img = rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)
                out.mux(s.encode(av.VideoFrame.from_ndarray(img, format="rgb24")))
            out.mux(s.encode())
        return path.read_bytes()


def seeds() -> list[bytes]:
    """Small valid files of each kind a scan reads."""
    video = "libx264" if "libx264" in av.codecs_available else "mpeg4"
    out = [_image_bytes("PNG"), _image_bytes("JPEG", quality=80), _image_bytes("GIF", animated=True),
           _image_bytes("WEBP", animated=True), _image_bytes("TIFF"), _video_bytes("mp4", video)]
    if "libvpx" in av.codecs_available:
        out.append(_video_bytes("webm", "libvpx"))
    return out


@st.composite
def mutated(draw, pool: list[bytes]) -> bytes:
    data = bytearray(draw(st.sampled_from(pool)))
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["overwrite", "insert", "delete", "cut", "splice", "int"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "overwrite":
            chunk = draw(st.binary(min_size=1, max_size=8))
            data[at : at + len(chunk)] = chunk
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 64))]
        elif kind == "cut":
            del data[at:]
        elif kind == "splice":
            other = draw(st.sampled_from(pool))
            data[at:] = other[draw(st.integers(0, len(other) - 1)) :]
        else:  # a size or count field set to an extreme
            value = draw(st.sampled_from([0, 1, 0x7FFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF]))
            data[at : at + 4] = value.to_bytes(4, draw(st.sampled_from(["big", "little"])))
    return bytes(data)


_HEADER = ("file sha256=" + "ab" * 32 + " kind=video width=32 height=24 fps=10 duration_s=0.6 sample_fps=1 "
           "frames=2 path=x.mp4")
_ROWS = ["0,100," + "3b" * 32 + ",0.000", "10,90," + "1b" * 32 + ",1.000"]
_JSON = ('{"schema": 1, "path": "x.jpg", "sha256": "' + "ab" * 32 + '", "kind": "image", "width": 4, '
         '"height": 4, "frames": [{"index": 0, "t": 0.0, "quality": 100, "pdq": "' + "3b" * 32 + '"}]}')


def _field_edit(draw, line: str) -> str:
    parts = line.split(draw(st.sampled_from([" ", ",", "=", ":"])))
    if parts:
        k = draw(st.integers(0, len(parts) - 1))
        parts[k] = draw(st.one_of(st.text(max_size=12), st.sampled_from(
            ["", "-1", "nan", "inf", "1e309", "0x10", "99999999999999999999", "frames=-5", "\x00", "é"])))
    return draw(st.sampled_from([" ", ",", "=", ":"])).join(parts)


def _edit_lines(draw, lines: list[str]) -> str:
    """The lines with up to four edits: a field changed, a line dropped, doubled, opened
    with a stray quote, or a line of random text inserted."""
    for _ in range(draw(st.integers(0, 4))):
        k = draw(st.integers(0, len(lines) - 1))
        how = draw(st.sampled_from(["edit", "drop", "dup", "quote", "raw"]))
        if how == "edit":
            lines[k] = _field_edit(draw, lines[k])
        elif how == "drop" and len(lines) > 1:
            del lines[k]
        elif how == "dup":
            lines.insert(k, lines[k])
        elif how == "quote":
            lines[k] = '"' + lines[k]
        else:
            lines.insert(k, draw(st.text(max_size=40)))
    return "\n".join(lines)


@st.composite
def hash_text(draw) -> str:
    return _edit_lines(draw, [MAGIC, _HEADER, *_ROWS] if draw(st.booleans()) else [_JSON])


@st.composite
def manifest_text(draw) -> str:
    return _edit_lines(draw, ["key,label,group,shard", "a,real,a,mini-000.tar", "b,fake,a,mini-000.tar"])


@st.composite
def labels_text(draw) -> str:
    return _edit_lines(draw, ["path,label,method,race", "a.jpg,real,camera,x", "sub/b.mp4,fake,swap,y"])


def check_labels(text: str, folder: Path) -> None:
    (folder / "labels.csv").write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        read_labels(folder / "labels.csv")
    except MediaSetError as e:
        assert "\n" not in str(e), "a MediaSetError of more than one line"


def check_media(data: bytes, folder: Path) -> None:
    path = folder / "input"
    path.write_bytes(data)
    try:
        info = probe(path)
        for _ in frames(path, info, max_frames=8):
            pass
        for _ in frames(path, info, every_frame=True, max_frames=8):
            pass
    except MediaError as e:
        assert "\n" not in str(e), "a MediaError of more than one line"


def check_hashes(text: str, folder: Path) -> None:
    try:
        read_hashes(io.StringIO(text))
    except HashFileError as e:
        assert "\n" not in str(e), "a HashFileError of more than one line"


def check_manifest(text: str, folder: Path) -> None:
    (folder / "mini.csv").write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        read_manifest(folder, "mini")
    except FaceSetError as e:
        assert "\n" not in str(e), "a FaceSetError of more than one line"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=1.0)
    ap.add_argument("--hang-s", type=float, default=10.0, help="an input taking longer than this is a find")
    ap.add_argument("--out", type=Path, default=Path("build/fuzz-finds"))
    args = ap.parse_args()
    pool = seeds()
    counts = {"media": 0, "hash file": 0, "manifest": 0, "labels": 0}
    folder = Path(tempfile.mkdtemp(prefix="unswap-fuzz-"))
    signal.signal(signal.SIGALRM, _alarm)

    last: dict[str, object] = {}

    def guarded(name, check, value):
        counts[name] += 1
        last[name] = value  # Hypothesis runs the shrunk find last, before it re-raises
        signal.setitimer(signal.ITIMER_REAL, args.hang_s)
        try:
            check(value, folder)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)

    warnings.simplefilter("ignore")  # Pillow's warnings about damaged files are expected here
    av.logging.set_level(av.logging.PANIC)
    logging.getLogger("unswap").setLevel(logging.ERROR)  # "video breaks off" is the expected answer here
    fast = settings(max_examples=200, deadline=None, database=None, report_multiple_bugs=False,
                    suppress_health_check=list(HealthCheck))
    targets = [
        ("media", fast(given(mutated(pool))(lambda data: guarded("media", check_media, data)))),
        ("hash file", fast(given(hash_text())(lambda text: guarded("hash file", check_hashes, text)))),
        ("manifest", fast(given(manifest_text())(lambda text: guarded("manifest", check_manifest, text)))),
        ("labels", fast(given(labels_text())(lambda text: guarded("labels", check_labels, text)))),
    ]
    try:
        return _run(targets, counts, last, args, time.monotonic() + 60 * args.minutes)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _run(targets, counts, last, args, end: float) -> int:
    """Round after round of each target until ``end``; 1 at the first find, else 0."""
    rounds = 0
    while time.monotonic() < end:
        name, test = targets[rounds % len(targets)]
        rounds += 1
        try:
            test()
        except BaseException as err:  # a find: Hypothesis has shrunk it and re-raised
            if isinstance(err, KeyboardInterrupt):
                raise
            args.out.mkdir(parents=True, exist_ok=True)
            value = last[name]
            saved = args.out / f"{name.replace(' ', '_')}_{int(time.time())}.bin"
            saved.write_bytes(value if isinstance(value, bytes) else str(value).encode("utf-8", "surrogatepass"))
            traceback.print_exception(err)
            print(f"FIND in {name}: {type(err).__name__}: {err}; input written to {saved}: {value!r:.500}",
                  file=sys.stderr)
            print(f"inputs tried: {counts}", file=sys.stderr)
            return 1
    total = sum(counts.values())
    print(f"no find in {args.minutes:g} min: {total} inputs tried "
          f"({', '.join(f'{v} {k}' for k, v in counts.items())})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
