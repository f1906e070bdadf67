"""Calibration of detector logits into probabilities, fitted on the ``val`` split."""

from __future__ import annotations

import numpy as np

from unswap.detectors.base import sigmoid


def fit_platt(logits: np.ndarray, labels: np.ndarray, iters: int = 100) -> tuple[float, float]:
    """(a, b) maximising the likelihood of p = sigmoid(a * logit + b): damped Newton steps."""
    x, y = logits.astype(np.float64), labels.astype(np.float64)

    def nll(a: float, b: float) -> float:
        z = a * x + b
        return float(np.sum(np.logaddexp(0.0, z) - y * z))

    a, b = 1.0, 0.0
    for _ in range(iters):
        p = sigmoid(a * x + b)
        g = np.array([np.sum((p - y) * x), np.sum(p - y)])
        w = p * (1 - p) + 1e-12
        h = np.array([[np.sum(w * x * x), np.sum(w * x)], [np.sum(w * x), np.sum(w)]])
        step = np.linalg.solve(h + 1e-6 * np.eye(2), g)
        t, before = 1.0, nll(a, b)
        while nll(a - t * step[0], b - t * step[1]) > before and t > 1e-6:
            t /= 2
        a, b = a - t * step[0], b - t * step[1]
        if np.abs(t * step).max() < 1e-9:
            break
    return float(a), float(b)


def calibrate_on_val(logits: np.ndarray, labels: np.ndarray) -> dict:
    """Everything a detector's ``config.json`` says about its calibration, from raw
    ``val`` logits and labels (1 = fake): Platt scaling, the threshold of maximum
    balanced accuracy, and the val metrics at that threshold (ECE over 15 bins)."""
    from unswap.metrics import balanced_threshold, expected_calibration_error, summary

    a, b = fit_platt(logits, labels)
    p = sigmoid(a * logits + b)
    threshold = balanced_threshold(labels, p)
    val = {**summary(labels, p, threshold), "ece_15": expected_calibration_error(labels, p)}
    return {
        "calibration": {"method": "platt", "a": a, "b": b, "fitted_on": "val"},
        "threshold": threshold,
        "threshold_rule": "maximum balanced accuracy on val",
        "metrics": {"val": val},
    }
