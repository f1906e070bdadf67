"""Score a face-crop set (shared layout) as it is, without re-detecting faces."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Iterator

import numpy as np

from unswap.detectors import Detector
from unswap.facesets import FaceSample, iter_split
from unswap.metrics import summary


def _batches(samples: Iterator[FaceSample], n: int) -> Iterator[list[FaceSample]]:
    batch: list[FaceSample] = []
    for s in samples:
        batch.append(s)
        if len(batch) == n:
            yield batch
            batch = []
    if batch:
        yield batch


def score_split(detector: Detector, faces_dir: Path, split: str, batch_size: int = 64):
    """(keys, labels with 1 = fake, calibrated p_fake) for every sample of ``split``."""
    keys, labels, probs = [], [], []
    for batch in _batches(iter_split(faces_dir, split), batch_size):
        crops = detector.resize_faces([s.decode() for s in batch])
        probs.append(detector.score(crops, batch_size))
        keys += [s.key for s in batch]
        labels += [1 if s.label == "fake" else 0 for s in batch]
    return keys, np.array(labels), np.concatenate(probs) if probs else np.zeros(0)


def write_scores(path: Path, keys: list[str], labels: np.ndarray, probs: np.ndarray) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["key", "label", "p_fake"])
        for k, y, p in zip(keys, labels, probs):
            w.writerow([k, "fake" if y else "real", f"{p:.6f}"])


def evaluate(detector: Detector, faces_dir: Path, split: str, scores_out: Path | None = None) -> dict:
    """Metrics of ``detector`` on ``split`` at its shipped threshold; optionally the scores CSV."""
    keys, labels, probs = score_split(detector, faces_dir, split)
    if scores_out is not None:
        write_scores(scores_out, keys, labels, probs)
    if len(set(labels.tolist())) < 2:
        return {"count": len(keys), "note": "one class only: no AUC"}
    return summary(labels, probs, detector.config.threshold)
