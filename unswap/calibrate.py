"""Calibration of detector logits into probabilities, fitted on the ``val`` split."""

from __future__ import annotations

import numpy as np

from unswap.detectors.base import sigmoid


def prior_weights(labels: np.ndarray, prior_fake: float) -> np.ndarray:
    """Per-sample weights under which fakes make up ``prior_fake`` of the total weight."""
    y = np.asarray(labels) > 0.5
    w = np.where(y, prior_fake / max(y.mean(), 1e-12), (1 - prior_fake) / max(1 - y.mean(), 1e-12))
    return w.astype(np.float64)


def fit_platt(logits: np.ndarray, labels: np.ndarray, iters: int = 100,
              weights: np.ndarray | None = None) -> tuple[float, float]:
    """(a, b) maximising the (``weights``-weighted) likelihood of p = sigmoid(a * logit + b):
    damped Newton steps."""
    x, y = logits.astype(np.float64), labels.astype(np.float64)
    sw = np.ones_like(x) if weights is None else np.asarray(weights, np.float64)

    def nll(a: float, b: float) -> float:
        z = a * x + b
        return float(np.sum(sw * (np.logaddexp(0.0, z) - y * z)))

    a, b = 1.0, 0.0
    for _ in range(iters):
        p = sigmoid(a * x + b)
        g = np.array([np.sum(sw * (p - y) * x), np.sum(sw * (p - y))])
        w = sw * p * (1 - p) + 1e-12
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


def fpr_threshold(real_scores: np.ndarray, max_fpr: float) -> float:
    """The lowest threshold at which at most ``max_fpr`` of ``real_scores`` lie at or
    above it (a score at the threshold counts as labelled fake)."""
    s = np.sort(np.asarray(real_scores, np.float64))[::-1]
    k = int(np.floor(max_fpr * len(s)))  # this many reals may lie at or above
    return float(np.nextafter(s[k], np.inf)) if k < len(s) else float(s[-1])


def fnr_threshold(fake_scores: np.ndarray, max_fnr: float) -> float:
    """The highest threshold below which at most ``max_fnr`` of ``fake_scores`` fall."""
    s = np.sort(np.asarray(fake_scores, np.float64))
    k = int(np.floor(max_fnr * len(s)))  # this many fakes may fall below
    return float(s[k]) if k < len(s) else float(s[-1])


def verdict_thresholds(reals: dict[str, np.ndarray], fakes: dict[str, np.ndarray],
                       max_fpr: float = 0.05, max_fnr: float = 0.10) -> dict:
    """The three-way verdict around false accusations. ``threshold`` ("fake" at or above):
    the lowest at which every set of real scores in ``reals`` has an FPR of at most
    ``max_fpr``. ``real_below`` ("real" below): the highest below which at most
    ``max_fnr`` of every set of fake scores in ``fakes`` fall, never above ``threshold``.
    In between: "uncertain". Returns both, with the set that set each."""
    per_real = {k: fpr_threshold(v, max_fpr) for k, v in reals.items() if len(v)}
    per_fake = {k: fnr_threshold(v, max_fnr) for k, v in fakes.items() if len(v)}
    fake_set = max(per_real, key=per_real.get)
    threshold = per_real[fake_set]
    real_set = min(per_fake, key=per_fake.get)
    real_below = min(per_fake[real_set], threshold)
    return {"threshold": threshold, "real_below": real_below, "threshold_set_by": fake_set,
            "real_below_set_by": real_set, "per_set": {"fake_threshold": per_real, "real_below": per_fake}}
