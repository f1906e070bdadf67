"""File-level labelled sets: a folder with ``labels.csv`` (``path,label[,method,...]``,
paths relative to the folder), as the shared ``xdomain/`` and ``reals/`` sets are laid
out; and the FairFace hold-out that training never sees.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

LABELS = ("real", "fake")


class MediaSetError(ValueError):
    """The labels file is missing, unreadable or not in the layout."""


@dataclass(frozen=True)
class LabelledFile:
    path: Path  # absolute (resolved against the labels file's folder)
    rel: str  # as written in labels.csv
    label: str  # "real" or "fake"
    method: str  # the ``method`` column, or the label when there is none
    extra: dict[str, str] = field(default_factory=dict)  # every other column

    @property
    def y(self) -> int:
        return int(self.label == "fake")


def read_labels(labels_csv: str | Path) -> list[LabelledFile]:
    """Every row of a ``labels.csv``. Paths must stay inside its folder; labels must be
    ``real`` or ``fake``. Raises ``MediaSetError`` with one line naming the problem."""
    labels_csv = Path(labels_csv)
    if not labels_csv.is_file():
        raise MediaSetError(f"{labels_csv}: no such labels file")
    root = labels_csv.resolve().parent
    try:
        with labels_csv.open(newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    except (UnicodeDecodeError, csv.Error) as e:
        raise MediaSetError(f"{labels_csv}: not a readable CSV ({e})") from None
    if not rows:
        raise MediaSetError(f"{labels_csv}: no rows")
    missing = [c for c in ("path", "label") if c not in rows[0]]
    if missing:
        raise MediaSetError(f"{labels_csv}: missing column(s) {', '.join(missing)}")
    out = []
    for n, row in enumerate(rows, start=2):
        rel, label = (row.get("path") or "").strip(), (row.get("label") or "").strip().lower()
        if not rel:
            raise MediaSetError(f"{labels_csv}:{n}: empty path")
        if label not in LABELS:
            raise MediaSetError(f"{labels_csv}:{n}: label {label!r} is not 'real' or 'fake'")
        if "\x00" in rel:
            raise MediaSetError(f"{labels_csv}:{n}: path holds a NUL byte")
        path = (root / rel).resolve()
        if not path.is_relative_to(root):
            raise MediaSetError(f"{labels_csv}:{n}: path {rel!r} leaves the set's folder")
        extra = {k: v for k, v in row.items() if k not in ("path", "label", "method") and k is not None}
        out.append(LabelledFile(path, rel, label, (row.get("method") or label).strip() or label, extra))
    return out


def fairface_holdout(files: list[LabelledFile], per_group: int = 200, seed: int = 0) -> tuple[list, list]:
    """(train, held out): ``per_group`` photos of each ``race`` group held out of
    training, drawn by a fixed seed over the sorted paths, so training and evaluation
    agree on the split without a file of their own."""
    by_group: dict[str, list[LabelledFile]] = {}
    for f in sorted(files, key=lambda f: f.rel):
        by_group.setdefault(f.extra.get("race", ""), []).append(f)
    train, held = [], []
    for g, items in sorted(by_group.items()):
        order = np.random.default_rng([seed, *map(ord, g)]).permutation(len(items))
        pick = set(order[:per_group].tolist())
        for i, f in enumerate(items):
            (held if i in pick else train).append(f)
    return train, held


def person_of(f: LabelledFile) -> str:
    """The person a file shows, for splits that keep a person on one side: a swap goes
    with the photo it was made on (``source``), a photo of a named set with its
    ``person``; otherwise the file is its own person."""
    return f.extra.get("source") or f.extra.get("person") or f.rel


def person_folds(files: list[LabelledFile], k: int = 2, seed: int = 0) -> np.ndarray:
    """A fold number in 0..k-1 for each file, by person (``person_of``): no person, and
    so no swap and the photo it was made on, is in two folds. People are dealt to the
    folds round-robin in a seeded order, so folds differ in size by at most one person."""
    people = sorted({person_of(f) for f in files})
    order = np.random.default_rng([seed, k]).permutation(len(people))
    fold_of = {people[j]: n % k for n, j in enumerate(order)}
    return np.array([fold_of[person_of(f)] for f in files], dtype=int)


PHOTO_HOLDOUT_SHARE = 0.25  # of the people of CelebA and LFW, held out of training


def people_holdout(files: list[LabelledFile], share: float = PHOTO_HOLDOUT_SHARE, seed: int = 0) -> tuple[list, list]:
    """(train, held out): ``share`` of the people of a set held out of training, drawn by
    a fixed seed over the sorted people, so training and evaluation agree on the split
    without a file of their own."""
    people = sorted({person_of(f) for f in files})
    order = np.random.default_rng([seed, 7]).permutation(len(people))
    held_people = {people[j] for j in order[: round(share * len(people))]}
    held = [f for f in files if person_of(f) in held_people]
    return [f for f in files if person_of(f) not in held_people], held


def dev_files(labels_csv: str | Path) -> list[LabelledFile]:
    """The files of a labelled set that dev measurements may use: of the photo sets of
    reals that training draws on (FairFace, CelebA, LFW), only the people it leaves out;
    of any other set, every file."""
    files = read_labels(labels_csv)
    kind = Path(labels_csv).resolve().parent.name
    if kind == "fairface":
        return fairface_holdout(files)[1]
    if kind in ("celeba", "lfw"):
        return people_holdout(files)[1]
    return files


DEV_SETS = {
    "ffpp": "xdomain/ffpp_c23/labels.csv",
    "inswapper": "xdomain/inswapper/labels.csv",
    "fairface_holdout": "reals/fairface/labels.csv",
    "celeba_holdout": "reals/celeba/labels.csv",
    "lfw_holdout": "reals/lfw/labels.csv",
    "videos": "videos/labels.csv",
}
"""The labelled sets that the training monitor and the verdict steps score file by file
(through ``dev_files``), by name: each one's ``labels.csv`` under the shared data folder."""

PHOTO_HOLDOUTS = ("fairface_holdout", "celeba_holdout", "lfw_holdout")
"""The dev sets of held-out real photos, by the names the monitor and the verdict steps use."""


def choosing_half(files: list[LabelledFile]) -> np.ndarray:
    """True for the files of a photo hold-out (``dev_files``) in the half, by person, that
    takes part in choosing the verdict's cuts; the other half only measures them."""
    return person_folds(files, 2, seed=1) == 0
