"""Detection metrics on (label, score) pairs, numpy only. Label 1 = fake."""

from __future__ import annotations

import numpy as np


def _counts(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """At each distinct score, highest first: the fakes (true positives) and reals (false
    positives) scoring at or above it, and the score."""
    order = np.argsort(-scores, kind="mergesort")
    s, y = scores[order], labels[order]
    distinct = np.r_[np.where(np.diff(s))[0], len(s) - 1]
    tps = np.cumsum(y)[distinct]
    return tps, (1 + distinct) - tps, s[distinct]


def _roc(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    tps, fps, thresholds = _counts(labels, scores)
    tpr = np.r_[0.0, tps / max(tps[-1], 1)]
    fpr = np.r_[0.0, fps / max(fps[-1], 1)]
    return fpr, tpr, np.r_[np.inf, thresholds]


def roc_auc(labels, scores) -> float:
    """Area under the ROC curve (ties count half)."""
    y = np.asarray(labels, np.float64)
    s = np.asarray(scores, np.float64)
    if y.min() == y.max():
        raise ValueError("AUC needs both classes")
    fpr, tpr, _ = _roc(y, s)
    return float(np.trapezoid(tpr, fpr))


def average_precision(labels, scores) -> float:
    """Average precision: sum over thresholds of (recall step) x precision."""
    tps, fps, _ = _counts(np.asarray(labels, np.float64), np.asarray(scores, np.float64))
    precision = tps / (tps + fps)
    recall = tps / max(tps[-1], 1)
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def equal_error_rate(labels, scores) -> float:
    """The error rate where false-positive and false-negative rates meet."""
    fpr, tpr, _ = _roc(np.asarray(labels, np.float64), np.asarray(scores, np.float64))
    fnr = 1 - tpr
    i = int(np.argmin(np.abs(fnr - fpr)))
    return float((fpr[i] + fnr[i]) / 2)


def accuracy(labels, scores, threshold: float) -> float:
    y = np.asarray(labels) > 0.5
    return float(np.mean((np.asarray(scores) >= threshold) == y))


def expected_calibration_error(labels, probs, bins: int = 15, weights=None) -> float:
    """ECE with equal-width bins over [0, 1]; with ``weights``, each sample counts by its
    weight (e.g. to measure it under another share of fakes than the set's own)."""
    y = np.asarray(labels, np.float64)
    p = np.asarray(probs, np.float64)
    w = np.ones_like(p) if weights is None else np.asarray(weights, np.float64)
    edges = np.linspace(0, 1, bins + 1)
    idx = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    ece, total = 0.0, w.sum()
    for b in range(bins):
        m = idx == b
        if m.any():
            wm = w[m]
            ece += wm.sum() / total * abs(np.average(p[m], weights=wm) - np.average(y[m], weights=wm))
    return float(ece)


def balanced_threshold(labels, scores) -> float:
    """The threshold that maximises balanced accuracy (mean of TPR and TNR)."""
    fpr, tpr, thr = _roc(np.asarray(labels, np.float64), np.asarray(scores, np.float64))
    i = int(np.argmax(tpr - fpr))
    return float(thr[i]) if np.isfinite(thr[i]) else 1.0


def summary(labels, scores, threshold: float) -> dict[str, float]:
    return {
        "count": len(labels),
        "auc": roc_auc(labels, scores),
        "ap": average_precision(labels, scores),
        "eer": equal_error_rate(labels, scores),
        "accuracy": accuracy(labels, scores, threshold),
        "threshold": float(threshold),
    }
