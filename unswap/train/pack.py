"""A training pack: every face a mixed recipe draws from, in one file.

A GPU machine that is lent for a few minutes sees only what travels with the repository
(64 MiB in this workplace), not the shared data set. ``write_pack`` takes the sources a
mixed recipe names (``unswap.train.mixed.load_sources``: DFDC reals with landmarks, DFDC
swaps, FairFace reals outside the hold-out with landmarks), resizes each face to one side
and re-encodes it as WebP (or JPEG) into a single ``.npz``; ``load_pack`` gives the same
sources back, so ``unswap train --pack PACK`` runs the recipe with no data folder at all.

Every face, real or fake, is re-encoded alike, so the pack adds no cue to the label; the
recipe's own outside-world chain (``unswap.train.augment``) still varies the compression.
Landmarks stay in the 224 px units of the shared crops, which ``MixedBatches`` rescales.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from unswap.train.mixed import Source

FORMATS = {"webp": (".webp", cv2.IMWRITE_WEBP_QUALITY), "jpeg": (".jpg", cv2.IMWRITE_JPEG_QUALITY)}


def reencode(data: bytes, side: int, quality: int, fmt: str = "webp") -> bytes:
    """An encoded image, decoded, resized to ``side`` x ``side`` (area filter when
    shrinking) and encoded again as ``fmt`` at ``quality``."""
    ext, flag = FORMATS[fmt]
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError("a face in the sources does not decode")
    if bgr.shape[:2] != (side, side):
        interp = cv2.INTER_AREA if bgr.shape[0] > side else cv2.INTER_CUBIC
        bgr = cv2.resize(bgr, (side, side), interpolation=interp)
    ok, buf = cv2.imencode(ext, bgr, [flag, int(quality)])
    if not ok:
        raise ValueError(f"could not encode a face as {fmt}")
    return buf.tobytes()


def write_pack(sources: dict[str, Source], out: Path, side: int, quality: int, fmt: str = "webp") -> dict:
    """Write ``sources`` to ``out`` (.npz); returns {source: (faces, bytes)}."""
    arrays, stats = {"side": np.array(side), "format": np.array(fmt), "names": np.array(sorted(sources))}, {}
    for name in sorted(sources):
        src = sources[name]
        blobs = [reencode(b, side, quality, fmt) for b in src.jpegs]
        sizes = np.array([len(b) for b in blobs], np.int64)
        arrays[f"{name}.blob"] = np.frombuffer(b"".join(blobs), np.uint8)
        arrays[f"{name}.sizes"] = sizes
        arrays[f"{name}.label"] = np.array(src.label)
        if src.landmarks is not None:
            arrays[f"{name}.landmarks"] = np.asarray(src.landmarks, np.float32)
        stats[name] = (len(blobs), int(sizes.sum()))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp.npz")
    np.savez(tmp, **arrays)
    tmp.replace(out)
    return stats


def load_pack(path: Path) -> dict[str, Source]:
    """The sources ``write_pack`` wrote, as ``load_sources`` gives them."""
    z = np.load(path, allow_pickle=False)
    out = {}
    for name in z["names"].tolist():
        blob, sizes = z[f"{name}.blob"], z[f"{name}.sizes"]
        ends = np.cumsum(sizes)
        jpegs = [blob[e - s : e].tobytes() for s, e in zip(sizes, ends)]
        lms = z[f"{name}.landmarks"] if f"{name}.landmarks" in z else None
        out[name] = Source(jpegs, lms, int(z[f"{name}.label"]))
    return out
