"""Read face-crop sets in the shared layout: ``SPLIT.csv`` + WebDataset tar shards.

Each sample is ``KEY.jpg`` + ``KEY.json`` inside a shard named in the manifest's
``shard`` column. Works on any folder in that layout.
"""

from __future__ import annotations

import csv
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np


class FaceSetError(ValueError):
    """The folder is not in the face-set layout."""


@dataclass(frozen=True)
class FaceSample:
    key: str
    label: str  # "real" or "fake"
    group: str
    jpeg: bytes

    def decode(self) -> np.ndarray:
        """The crop as an (H, W, 3) uint8 RGB array."""
        bgr = cv2.imdecode(np.frombuffer(self.jpeg, np.uint8), cv2.IMREAD_COLOR)
        if bgr is None:
            raise FaceSetError(f"sample {self.key}: JPEG does not decode")
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def read_manifest(root: Path, split: str) -> list[dict[str, str]]:
    manifest = Path(root) / f"{split}.csv"
    if not manifest.is_file():
        raise FaceSetError(f"{manifest}: no manifest for split '{split}'")
    with manifest.open(newline="") as f:
        rows = list(csv.DictReader(f))
    for col in ("key", "label", "shard"):
        if rows and col not in rows[0]:
            raise FaceSetError(f"{manifest}: missing column '{col}'")
    return rows


def iter_split(root: Path, split: str) -> Iterator[FaceSample]:
    """Yield every sample listed in ``split``'s manifest, in manifest order per shard."""
    root = Path(root)
    rows = read_manifest(root, split)
    by_shard: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_shard.setdefault(row["shard"], []).append(row)
    for shard, shard_rows in by_shard.items():
        path = root / shard
        if not path.is_file():
            raise FaceSetError(f"{path}: shard named in {split}.csv is missing")
        wanted = {r["key"]: r for r in shard_rows}
        found: dict[str, bytes] = {}
        with tarfile.open(path) as tar:
            for member in tar:
                name = member.name.rsplit("/", 1)[-1]
                if not name.endswith(".jpg"):
                    continue
                key = name[: -len(".jpg")]
                if key in wanted:
                    found[key] = tar.extractfile(member).read()
        for key, row in wanted.items():
            if key not in found:
                raise FaceSetError(f"{path}: sample {key} listed in {split}.csv is missing")
            yield FaceSample(key, row["label"], row.get("group", key), found[key])
