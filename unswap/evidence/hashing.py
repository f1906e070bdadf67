"""Perceptual hashes of images and video frames (PDQ), and the text file that stores them.

PDQ (Meta's ThreatExchange) turns a picture into 256 bits that change little under
re-encoding, rescaling and small edits, and a quality in 0..100 (how much detail the
picture has: a flat frame scores near 0 and its hash means little). Two pictures are
compared by the Hamming distance of their bits, 0..256; unrelated pictures sit near 128.

A video is hashed at a sampled rate, one PDQ per sampled frame with its frame index and
time in seconds, as Meta's vPDQ does. The file format is specified in docs/hash-format.md:
a ``file`` header line per input, then one ``index,quality,hash,t`` line per frame (vPDQ's
``frame_number,quality,hash,timestamp``); ``read_hashes`` reads it, and JSON Lines, back.

Hex strings are vPDQ's and ThreatExchange's: 64 hex digits, most significant bit first.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import stat
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from unswap.media import MAX_SAMPLE_FPS, MediaError, frames, probe
from unswap.options import Option, Options
from unswap.types import PathLike

__all__ = [
    "DEFAULT_HASH_FPS",
    "FORMAT_VERSION",
    "MAGIC",
    "OPTIONS",
    "HashConfig",
    "HashFileError",
    "MediaHashes",
    "file_digest",
    "format_hashes",
    "hamming",
    "hash_media",
    "pdq",
    "read_hashes",
    "to_dict",
    "write_hashes",
]

DEFAULT_HASH_FPS = 1.0
"""Video frames hashed per second by default, as vPDQ's default."""

FORMAT_VERSION = 1
MAGIC = f"# unswap-hashes {FORMAT_VERSION}"

_HEX_DIGITS = 64
_BYTES = 32


@dataclass(frozen=True)
class HashConfig:
    """How ``unswap hash`` and the service's ``/api/hash`` hash a file; each field is an
    option (``OPTIONS``)."""

    sample_fps: float = DEFAULT_HASH_FPS

    def __post_init__(self) -> None:
        OPTIONS.check(self)


OPTIONS = Options(
    HashConfig,
    Option("fps", float, "video frames hashed per second", attr="sample_fps", minimum=0, maximum=MAX_SAMPLE_FPS,
           above=True),
)
"""The ``HashConfig`` fields a user sets (``unswap hash`` flags, ``/api/hash`` form fields)."""


class HashFileError(ValueError):
    """A hash file that is not in the format of docs/hash-format.md; ``str()`` is one line."""


def pdq(rgb: np.ndarray) -> tuple[str, int]:
    """PDQ hash of an (H, W, 3) uint8 RGB picture: (64 hex digits, quality 0..100).

    The same bits as ``pdqhash.compute`` on the same pixels, written most significant bit first.
    """
    import pdqhash

    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected (H, W, 3) uint8 RGB, got {rgb.shape} {rgb.dtype}")
    bits, quality = pdqhash.compute(rgb)
    return np.packbits(bits.astype(np.uint8)).tobytes().hex(), int(quality)


def _bits(hex_hash: str) -> np.ndarray:
    if len(hex_hash) != _HEX_DIGITS:
        raise ValueError(f"a PDQ hash has {_HEX_DIGITS} hex digits, not {len(hex_hash)}")
    return np.frombuffer(bytes.fromhex(hex_hash), np.uint8)


def hamming(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise Hamming distances (N, M) int between packed hashes a (N, 32) and b (M, 32) uint8."""
    a = np.asarray(a, np.uint8).reshape(-1, _BYTES)
    b = np.asarray(b, np.uint8).reshape(-1, _BYTES)
    return np.bitwise_count(a[:, None, :] ^ b[None, :, :]).sum(axis=2, dtype=np.int64)


@dataclass
class MediaHashes:
    """PDQ hashes of one file's sampled frames.

    ``index`` (N,) int64 frame index, ``t`` (N,) float64 seconds from the first frame,
    ``quality`` (N,) int64 in 0..100, ``bits`` (N, 32) uint8 (the hash, most significant
    bit first). An image has one frame (index 0, t 0.0) and ``fps``, ``duration_s`` and
    ``sample_fps`` None. ``sha256`` is of the file's bytes. Slicing selects frames.
    """

    path: str
    sha256: str
    kind: str
    width: int
    height: int
    fps: float | None
    duration_s: float | None
    sample_fps: float | None
    index: np.ndarray
    t: np.ndarray
    quality: np.ndarray
    bits: np.ndarray

    def __post_init__(self) -> None:
        try:
            self.index = np.asarray(self.index, np.int64).reshape(-1)
            self.quality = np.asarray(self.quality, np.int64).reshape(-1)
        except OverflowError:  # a read-back file's frame number past int64
            raise ValueError("a frame index or quality does not fit in 64 bits") from None
        self.t = np.asarray(self.t, np.float64).reshape(-1)
        self.bits = np.asarray(self.bits, np.uint8).reshape(-1, _BYTES)
        if not (len(self.index) == len(self.t) == len(self.quality) == len(self.bits)):
            raise ValueError("index, t, quality and bits differ in length")
        if self.kind not in ("image", "video"):
            raise ValueError(f"kind must be 'image' or 'video', not {self.kind!r}")
        if len(self.sha256) != 64 or any(c not in "0123456789abcdef" for c in self.sha256):
            raise ValueError(f"sha256 must be 64 lowercase hex digits, not {self.sha256!r}")
        if len(self.quality) and (self.quality.min() < 0 or self.quality.max() > 100):
            raise ValueError("quality must be in 0..100")

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, index) -> MediaHashes:
        idx = np.atleast_1d(np.arange(len(self))[index])
        return MediaHashes(self.path, self.sha256, self.kind, self.width, self.height, self.fps,
                           self.duration_s, self.sample_fps, self.index[idx], self.t[idx],
                           self.quality[idx], self.bits[idx])

    @property
    def hashes(self) -> list[str]:
        """The hashes as 64-digit hex strings."""
        return [row.tobytes().hex() for row in self.bits]

    def same_frames(self, other: MediaHashes) -> bool:
        """Whether both hold the same frames, indexes, times (to the ms) and hashes."""
        return (len(self) == len(other) and np.array_equal(self.index, other.index)
                and np.allclose(self.t, other.t, atol=5e-4) and np.array_equal(self.quality, other.quality)
                and np.array_equal(self.bits, other.bits))


def file_digest(path: PathLike) -> tuple[str, int]:
    """(SHA-256 as 64 lowercase hex digits, size in bytes) of a regular file's bytes.

    Raises OSError for a file that cannot be read or is not a regular file; it is opened
    without blocking, so a FIFO named by mistake does not hang the caller.
    """
    digest, size = hashlib.sha256(), 0
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        f = open(fd, "rb")  # from here on the file object closes fd
    except BaseException:
        os.close(fd)
        raise
    with f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def hash_media(path: PathLike, sample_fps: float = DEFAULT_HASH_FPS) -> MediaHashes:
    """PDQ of an image, or of a video's frames sampled at about ``sample_fps`` a second.

    Frames are the upright RGB frames of ``unswap.media.frames``. Raises MediaError for
    anything that is not a readable image or video.
    """
    info = probe(path)
    index, t, quality, bits = [], [], [], []
    for frame in frames(path, info, sample_fps=sample_fps):
        hex_hash, q = pdq(frame.image)
        index.append(frame.index)
        t.append(frame.t)
        quality.append(q)
        bits.append(_bits(hex_hash))
    try:
        sha, _ = file_digest(path)
    except OSError as err:
        raise MediaError(f"cannot read file ({err.strerror or err})", path) from None
    video = info.kind == "video"
    return MediaHashes(
        str(path), sha, info.kind, info.width, info.height, info.fps if video else None,
        info.duration_s if video else None, sample_fps if video else None,
        index, t, quality, np.array(bits, np.uint8).reshape(-1, _BYTES),
    )


# ---- the text format (docs/hash-format.md) -------------------------------------------


def _num(x: float) -> str:
    return f"{x:.6g}"


def format_hashes(h: MediaHashes) -> str:
    """One file's block of the text format: its ``file`` header line, then one line per frame."""
    fields = [f"sha256={h.sha256}", f"kind={h.kind}", f"width={h.width}", f"height={h.height}"]
    if h.fps is not None:
        fields.append(f"fps={_num(h.fps)}")
    if h.duration_s is not None:
        fields.append(f"duration_s={h.duration_s:.3f}")
    if h.sample_fps is not None:
        fields.append(f"sample_fps={_num(h.sample_fps)}")
    fields.append(f"frames={len(h)}")
    fields.append(f"path={urllib.parse.quote(h.path, safe='/')}")
    lines = ["file " + " ".join(fields)]
    lines += [f"{i},{q},{hx},{t:.3f}" for i, q, hx, t in zip(h.index, h.quality, h.hashes, h.t)]
    return "\n".join(lines)


def to_dict(h: MediaHashes) -> dict[str, Any]:
    """One file's JSON object (one line of ``unswap hash --json``)."""
    return {
        "schema": FORMAT_VERSION,
        "path": h.path,
        "sha256": h.sha256,
        "kind": h.kind,
        "width": h.width,
        "height": h.height,
        "fps": None if h.fps is None else round(h.fps, 6),
        "duration_s": None if h.duration_s is None else round(h.duration_s, 3),
        "sample_fps": h.sample_fps,
        "frames": [{"index": int(i), "t": round(float(t), 3), "quality": int(q), "pdq": hx}
                   for i, t, q, hx in zip(h.index, h.t, h.quality, h.hashes)],
    }


def write_hashes(items: Iterable[MediaHashes], out: TextIO, *, json_lines: bool = False) -> None:
    """Write hashes in the text format (with its first line) or as JSON Lines."""
    if not json_lines:
        print(MAGIC, file=out)
    for h in items:
        print(json.dumps(to_dict(h)) if json_lines else format_hashes(h), file=out)


def read_hashes(source: PathLike | TextIO) -> list[MediaHashes]:
    """Read what ``unswap hash`` wrote (text format or JSON Lines) back, from a path or an
    open text stream.

    Raises HashFileError, naming the line, where it is in neither format.
    """
    try:
        text = source.read() if hasattr(source, "read") else Path(source).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise HashFileError("not a hash file (not UTF-8 text)") from None
    lines = text.splitlines()
    first = next((ln for ln in lines if ln.strip()), "")
    if first.lstrip().startswith("{"):
        return _read_json_lines(lines)
    if first.strip() != MAGIC:
        raise HashFileError(f"not a hash file (its first line is not {MAGIC!r})")
    return _read_text(lines)


def _read_text(lines: list[str]) -> list[MediaHashes]:
    out: list[MediaHashes] = []
    header: dict[str, str] | None = None
    rows: list[tuple[int, int, str, float]] = []
    where = 0

    def close() -> None:
        if header is None:
            return
        expected = header.get("frames")
        if expected is not None and int(expected) != len(rows):
            raise HashFileError(f"line {where}: header says {expected} frames, found {len(rows)}")
        out.append(_from_header(header, rows))

    for n, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            if line.startswith("file "):
                close()
                header, rows, where = _header_fields(line), [], n
            elif header is None:
                raise ValueError("a frame line before any file line")
            else:
                index, quality, hex_hash, t = line.split(",")
                rows.append((int(index), int(quality), hex_hash.lower(), float(t)))
                _bits(hex_hash)
        except (ValueError, KeyError) as err:
            raise HashFileError(f"line {n}: {err}") from None
    try:
        close()
    except (ValueError, KeyError) as err:
        raise HashFileError(f"line {where}: {err}") from None
    return out


def _header_fields(line: str) -> dict[str, str]:
    fields = {}
    for item in line.split()[1:]:
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"header field {item!r} is not key=value")
        fields[key] = value
    for key in ("sha256", "kind", "width", "height", "path"):
        if key not in fields:
            raise ValueError(f"file line has no {key}=")
    return fields


def _opt(fields: dict[str, Any], key: str) -> float | None:
    value = fields.get(key)
    return None if value is None else float(value)


def _from_header(fields: dict[str, str], rows: list[tuple[int, int, str, float]]) -> MediaHashes:
    return MediaHashes(
        urllib.parse.unquote(fields["path"]), fields["sha256"].lower(), fields["kind"],
        int(fields["width"]), int(fields["height"]), _opt(fields, "fps"), _opt(fields, "duration_s"),
        _opt(fields, "sample_fps"),
        [r[0] for r in rows], [r[3] for r in rows], [r[1] for r in rows],
        np.array([_bits(r[2]) for r in rows], np.uint8).reshape(-1, _BYTES),
    )


def _read_json_lines(lines: list[str]) -> list[MediaHashes]:
    out = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            fr = d["frames"]
            out.append(MediaHashes(
                d["path"], d["sha256"].lower(), d["kind"], int(d["width"]), int(d["height"]),
                _opt(d, "fps"), _opt(d, "duration_s"), _opt(d, "sample_fps"),
                [f["index"] for f in fr], [f["t"] for f in fr], [f["quality"] for f in fr],
                np.array([_bits(f["pdq"]) for f in fr], np.uint8).reshape(-1, _BYTES),
            ))
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            raise HashFileError(f"line {n}: not a hash record ({err})") from None
    return out
