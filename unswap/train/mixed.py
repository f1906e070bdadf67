"""Mixed batches: real faces from more than one place, labelled face swaps, and
self-blends of real faces from every place real faces come from.

A batch is a fixed recipe of slots (``[[mix]]`` tables of a training config), e.g.
8 DFDC reals, 8 DFDC swaps, 8 FairFace reals, 4 self-blends of DFDC reals and 4 of
FairFace reals. Every source of real faces thus has fakes of its own, so where a face
comes from carries no label. Every face, real or fake, then goes through the same
outside-world degradations (``unswap.train.augment``).

The region head learns from the self-blend masks; a real face's mask is all zeros; a
labelled swap has no mask and gives no region loss (its ``mask_valid`` is 0).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from unswap.faces.align import CROP, resize_crop
from unswap.facesets import iter_split
from unswap.mediasets import fairface_holdout, people_holdout, person_folds, read_labels
from unswap.train.augment import jitter_geometry, outside_world
from unswap.train.config import MixSlot
from unswap.train.data import load_train_faces
from unswap.train.sbi import self_blend


@dataclass(frozen=True)
class Source:
    jpegs: list[bytes]
    landmarks: np.ndarray | None  # (N, 5, 2) in crop pixels; None: no self-blends
    label: int  # 1 = fake


# photo sets of real faces with no fakes of their own; a share of their people is held out
# of training, to set and check the verdict's cuts (``people_holdout``)
PHOTO_REALS = {"celeba_real": "celeba", "lfw_real": "lfw"}
INSWAPPER_FOLDS = 2


def inswapper_split(files: list, fold: int | None) -> tuple[list, list]:
    """(train, held out) of the inswapper pairs: with ``fold`` None all of them train;
    else the people of that fold (``person_folds``, a swap with its target photo) are
    held out, for cross-validation by person."""
    if fold is None:
        return files, []
    folds = person_folds(files, INSWAPPER_FOLDS)
    return [f for f, k in zip(files, folds) if k != fold], [f for f, k in zip(files, folds) if k == fold]


def load_sources(faces_dir: Path, reals_dir: Path | None, cache_dir: Path, fairface_per_group: int = 200,
                 inswapper_fold: int | None = None) -> dict:
    """The sources a recipe can name: ``dfdc_real``, ``dfdc_fake``; when ``reals_dir``
    holds them, ``fairface_real`` (its hold-out left out), ``celeba_real`` and
    ``lfw_real`` (a quarter of their people left out); and when the xdomain inswapper
    pairs lie beside ``reals_dir``, ``inswapper_real`` and ``inswapper_fake`` (the people
    of ``inswapper_fold`` left out, or none when it is None)."""
    from unswap.train.sources import largest_face_crops  # face detection and decoding: not needed with a pack

    jpegs, lms = load_train_faces(faces_dir, cache_dir / "landmarks_train.npz")
    fakes = [s.jpeg for s in iter_split(faces_dir, "train") if s.label == "fake"]
    out = {"dfdc_real": Source(jpegs, lms, 0), "dfdc_fake": Source(fakes, None, 1)}
    labels = None if reals_dir is None else Path(reals_dir) / "fairface" / "labels.csv"
    if labels is not None and labels.is_file():
        train, _ = fairface_holdout(read_labels(labels), fairface_per_group)
        ff_jpegs, ff_lms, _ = largest_face_crops(train, cache_dir / "fairface_train_crops.npz")
        out["fairface_real"] = Source(ff_jpegs, ff_lms, 0)
    for name, folder in PHOTO_REALS.items():
        labels = None if reals_dir is None else Path(reals_dir) / folder / "labels.csv"
        if labels is not None and labels.is_file():
            train, _ = people_holdout(read_labels(labels))
            jpegs, lms, _ = largest_face_crops(train, cache_dir / f"{folder}_train_crops.npz")
            out[name] = Source(jpegs, lms, 0)
    labels = None if reals_dir is None else Path(reals_dir).parent / "xdomain" / "inswapper" / "labels.csv"
    if labels is not None and labels.is_file():
        train, _ = inswapper_split(read_labels(labels), inswapper_fold)
        tag = "all" if inswapper_fold is None else f"not{inswapper_fold}"
        for label in ("real", "fake"):
            files = [f for f in train if f.label == label]
            # every photo, real or swapped, is cropped and re-encoded the same way, so the
            # swaps' smaller source JPEGs carry no label of their own
            jpegs, lms, _ = largest_face_crops(files, cache_dir / f"inswapper_{label}_{tag}_crops.npz")
            out[f"inswapper_{label}"] = Source(jpegs, lms if label == "real" else None, int(label == "fake"))
    return out


class MixedBatches(torch.utils.data.Dataset):
    """Item i of an epoch: one whole batch, (B, 3, S, S) uint8, labels (B,), masks
    (B, M, M) float and mask_valid (B,). Deterministic in (seed, epoch, i), so a resumed
    run sees the batches it would have seen."""

    def __init__(self, sources: dict[str, Source], slots: list[MixSlot], size: int, mask_stride: int, seed: int,
                 steps_per_epoch: int, large_mask_p: float = 0.0, strength: float = 1.0, geometry_p: float = 0.5,
                 smooth_p: float = 0.0):
        missing = [s.source for s in slots if s.source not in sources]
        if missing:
            raise ValueError(f"the recipe names sources that are not loaded: {', '.join(sorted(set(missing)))}")
        if any(s.blend and sources[s.source].landmarks is None for s in slots):
            raise ValueError("self-blend slots need a source of real faces with landmarks")
        self.sources, self.slots, self.size, self.stride = sources, slots, size, mask_stride
        self.seed, self.steps, self.large_mask_p = seed, steps_per_epoch, large_mask_p
        self.strength, self.geometry_p, self.smooth_p = strength, geometry_p, smooth_p
        self.epoch = 0

    def __len__(self) -> int:
        return self.steps

    def _pick(self, slot_no: int, i: int, j: int) -> int:
        slot = self.slots[slot_no]
        n = len(self.sources[slot.source].jpegs)
        k = i * slot.n + j
        perm = np.random.default_rng([self.seed, self.epoch, slot_no, k // n]).permutation(n)
        return int(perm[k % n])

    def __getitem__(self, i: int):
        rng = np.random.default_rng([self.seed, self.epoch, 1_000_003, i])
        side = self.size // self.stride if self.stride else 0
        xs, ys, ms, valid = [], [], [], []
        for slot_no, slot in enumerate(self.slots):
            src = self.sources[slot.source]
            for j in range(slot.n):
                idx = self._pick(slot_no, i, j)
                bgr = cv2.imdecode(np.frombuffer(src.jpegs[idx], np.uint8), cv2.IMREAD_COLOR)
                im = np.ascontiguousarray(bgr[:, :, ::-1])
                mask = np.zeros(im.shape[:2], np.float32)
                if slot.blend:
                    lm = src.landmarks[idx] * (im.shape[1] / CROP)  # landmarks are in CROP-side pixels
                    im, mask = self_blend(im, lm, rng, self.large_mask_p, self.smooth_p)
                label = 1 if slot.blend else src.label
                has_mask = slot.blend or src.label == 0
                if rng.random() < 0.5:
                    im, mask = np.ascontiguousarray(im[:, ::-1]), np.ascontiguousarray(mask[:, ::-1])
                if rng.random() < self.geometry_p:
                    im, mask = jitter_geometry(im, mask, rng)
                im = outside_world(im, rng, self.strength)
                xs.append(resize_crop(im, self.size))
                ys.append(float(label))
                if side:
                    ms.append(cv2.resize(mask, (side, side), interpolation=cv2.INTER_AREA))
                valid.append(float(has_mask))
        x = torch.from_numpy(np.stack(xs)).permute(0, 3, 1, 2).contiguous()
        m = torch.from_numpy(np.stack(ms)) if ms else torch.zeros(0)
        return x, torch.tensor(ys), m, torch.tensor(valid)
