"""Score a face-crop set (shared layout) without re-detecting faces, as it is or degraded.

Degradations imitate what re-sharing does to a clip, applied to each 224x224 crop before
scoring: ``jpeg40`` (re-encoded at JPEG quality 40), ``half`` (down to half size and back
up) and ``half+jpeg40`` (both, in the order a re-upload does them).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from unswap.detectors import Detector
from unswap.facesets import FaceSample, iter_split
from unswap.metrics import expected_calibration_error, summary

DEGRADATIONS = ("none", "jpeg40", "half", "half+jpeg40")


def degrade_crop(rgb: np.ndarray, name: str) -> np.ndarray:
    """(H, W, 3) uint8 RGB degraded by one of ``DEGRADATIONS``."""
    if name not in DEGRADATIONS:
        raise ValueError(f"unknown degradation {name!r}; one of {', '.join(DEGRADATIONS)}")
    out = rgb
    if "half" in name:
        h, w = out.shape[:2]
        small = cv2.resize(out, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
        out = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    if "jpeg40" in name:
        _, buf = cv2.imencode(".jpg", np.ascontiguousarray(out[:, :, ::-1]), [cv2.IMWRITE_JPEG_QUALITY, 40])
        out = np.ascontiguousarray(cv2.imdecode(buf, cv2.IMREAD_COLOR)[:, :, ::-1])
    return out


def _batches(samples: Iterator[FaceSample], n: int) -> Iterator[list[FaceSample]]:
    batch: list[FaceSample] = []
    for s in samples:
        batch.append(s)
        if len(batch) == n:
            yield batch
            batch = []
    if batch:
        yield batch


def split_logits(detector: Detector, faces_dir: Path, split: str, batch_size: int = 64, degrade: str = "none"):
    """(keys, labels with 1 = fake, raw uncalibrated logits) for every sample of ``split``."""
    if degrade not in DEGRADATIONS:
        raise ValueError(f"unknown degradation {degrade!r}; one of {', '.join(DEGRADATIONS)}")
    keys, labels, logits = [], [], []
    for batch in _batches(iter_split(faces_dir, split), batch_size):
        crops = detector.resize_faces([degrade_crop(s.decode(), degrade) for s in batch])
        logits.append(detector.raw(crops, batch_size)[0])
        keys += [s.key for s in batch]
        labels += [1 if s.label == "fake" else 0 for s in batch]
    return keys, np.array(labels), np.concatenate(logits) if logits else np.zeros(0)


def score_split(detector: Detector, faces_dir: Path, split: str, batch_size: int = 64, degrade: str = "none"):
    """(keys, labels with 1 = fake, calibrated p_fake) for every sample of ``split``."""
    keys, labels, logits = split_logits(detector, faces_dir, split, batch_size, degrade)
    return keys, labels, detector.postprocess(logits)


def write_scores(path: Path, keys: list[str], labels: np.ndarray, probs: np.ndarray) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["key", "label", "p_fake"])
        for k, y, p in zip(keys, labels, probs):
            w.writerow([k, "fake" if y else "real", f"{p:.6f}"])


def evaluate(
    detector: Detector, faces_dir: Path, split: str, scores_out: Path | None = None, degrade: str = "none"
) -> dict:
    """Metrics of ``detector`` on ``split`` at its shipped threshold, with expected
    calibration error (15 bins); optionally the scores CSV."""
    keys, labels, probs = score_split(detector, faces_dir, split, degrade=degrade)
    if scores_out is not None:
        write_scores(scores_out, keys, labels, probs)
    if len(set(labels.tolist())) < 2:
        return {"count": len(keys), "note": "one class only: no AUC"}
    return {**summary(labels, probs, detector.config.threshold), "ece_15": expected_calibration_error(labels, probs),
            "degrade": degrade}
