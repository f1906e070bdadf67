"""Splits by person: a swap never sits on the other side of a split from the photo it was
made on, and a photo set's held-out people are never trained on."""

from __future__ import annotations

from pathlib import Path

import pytest

from unswap.mediasets import LabelledFile, dev_files, people_holdout, person_folds, person_of, read_labels
from unswap.paths import shared_data_dir


def _f(rel: str, label: str = "real", **extra) -> LabelledFile:
    return LabelledFile(Path("/x") / rel, rel, label, label, extra)


def test_a_swap_goes_to_the_fold_of_the_photo_it_was_made_on():
    files = [_f(f"real/{i}.jpg") for i in range(20)]
    files += [_f(f"fake/a{i}.jpg", "fake", source=f"real/{i}.jpg") for i in range(0, 20, 2)]
    files += [_f(f"fake/b{i}.jpg", "fake", source=f"real/{i}.jpg") for i in range(0, 20, 4)]
    folds = person_folds(files, 2)
    fold_of = {f.rel: k for f, k in zip(files, folds)}
    for f in files:
        if f.label == "fake":
            assert fold_of[f.rel] == fold_of[f.extra["source"]]
    assert abs(int((folds == 0).sum()) - int((folds == 1).sum())) <= 3  # people dealt evenly
    assert (person_folds(files, 2) == folds).all()  # fixed by the seed


def test_a_held_out_person_has_no_photo_in_training():
    files = [_f(f"p{i % 30}_{i}.jpg", person=f"p{i % 30}") for i in range(90)]
    train, held = people_holdout(files, 0.25)
    assert len(train) + len(held) == 90 and {person_of(f) for f in train}.isdisjoint({person_of(f) for f in held})
    assert len({person_of(f) for f in held}) == round(0.25 * 30)


@pytest.mark.parametrize("folder", ["reals/celeba", "reals/lfw", "reals/fairface"])
def test_dev_files_of_a_photo_set_are_only_its_held_out_people(folder):
    labels = shared_data_dir() / folder / "labels.csv"
    if not labels.is_file():
        pytest.skip(f"{labels} not found (set UNSWAP_DATA)")
    held = dev_files(labels)
    every = read_labels(labels)
    assert 0 < len(held) < len(every)
    if folder != "reals/fairface":
        train, _ = people_holdout(every)
        assert {person_of(f) for f in train}.isdisjoint({person_of(f) for f in held})


def test_the_inswapper_folds_keep_each_swap_with_its_target_photo():
    labels = shared_data_dir() / "xdomain/inswapper/labels.csv"
    if not labels.is_file():
        pytest.skip(f"{labels} not found (set UNSWAP_DATA)")
    files = read_labels(labels)
    folds = person_folds(files, 2)
    fold_of = {f.rel: k for f, k in zip(files, folds)}
    swaps = [f for f in files if f.label == "fake"]
    assert swaps and all(fold_of[f.extra["source"]] == fold_of[f.rel] for f in swaps)
    assert {int(fold_of[f.rel]) for f in swaps} == {0, 1}
