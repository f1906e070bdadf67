"""The verdict's calibration and thresholds: set around false accusations."""

from __future__ import annotations

import numpy as np
import pytest

from unswap.calibrate import fit_platt, fnr_threshold, fpr_threshold, prior_weights, verdict_thresholds
from unswap.detectors.base import DetectorConfig, sigmoid
from unswap.metrics import expected_calibration_error


def test_fpr_threshold_lets_at_most_that_share_of_reals_through():
    rng = np.random.default_rng(0)
    for n in (7, 25, 244, 1000):
        reals = rng.normal(0, 1, n)
        t = fpr_threshold(reals, 0.05)
        assert np.mean(reals >= t) <= 0.05
        # and it is the lowest such: one step lower lets one more real through
        below = np.sort(reals)[::-1][int(np.floor(0.05 * n))]
        assert np.mean(reals >= below) > 0.05


def test_fnr_threshold_and_the_three_way_verdict():
    rng = np.random.default_rng(1)
    reals = {"a": rng.normal(0.2, 0.1, 500), "b": rng.normal(0.35, 0.1, 50)}
    fakes = {"a": rng.normal(0.8, 0.1, 500), "b": rng.normal(0.6, 0.15, 60)}
    v = verdict_thresholds(reals, fakes, max_fpr=0.05, max_fnr=0.1)
    for r in reals.values():
        assert np.mean(r >= v["threshold"]) <= 0.05
    assert v["threshold_set_by"] == "b"  # the set whose reals score highest decides
    for f in fakes.values():
        assert np.mean(f < v["real_below"]) <= 0.1
    assert v["real_below"] <= v["threshold"]
    assert fnr_threshold(np.array([0.1, 0.2, 0.3]), 0.0) == 0.1


def test_prior_weighted_platt_is_calibrated_at_the_prior_it_states():
    rng = np.random.default_rng(2)
    y = (rng.random(6000) < 0.7).astype(int)  # a split with 70% fakes
    z = rng.normal(np.where(y == 1, 1.0, -1.0), 1.2)
    a, b = fit_platt(z, y, weights=prior_weights(y, 0.5))
    p = sigmoid(a * z + b)
    w = prior_weights(y, 0.5)
    assert w[y == 1].sum() == pytest.approx(w[y == 0].sum())
    assert expected_calibration_error(y, p, weights=w) < 0.03
    # unweighted Platt carries the split's 70% instead, and reads miscalibrated at 50/50
    a0, b0 = fit_platt(z, y)
    assert expected_calibration_error(y, sigmoid(a0 * z + b0), weights=w) > expected_calibration_error(y, p, weights=w)


def _config(**kw) -> DetectorConfig:
    return DetectorConfig(name="x", version="v0", input_size=160, mean=(0.5,) * 3, std=(0.5,) * 3, side_per_scale=2.39,
                          center_below=0.02, **kw)


def test_three_way_labels_and_the_rates_sentence():
    c = _config(threshold=0.8, real_below=0.3, rates={"outside": {"fpr": 0.043, "tpr": 0.61, "sets": "FF++ clips"}})
    assert [c.label_for(p) for p in (0.1, 0.3, 0.79, 0.8, 0.99)] == ["real", "uncertain", "uncertain", "fake", "fake"]
    s = c.rates_sentence()
    assert "about 4 in 100 real faces fake" in s and "about 61 in 100" in s and "FF++ clips" in s
    old = _config(threshold=0.5, uncertain_margin=0.05)
    assert [old.label_for(p) for p in (0.44, 0.5, 0.56)] == ["real", "uncertain", "fake"]
    assert old.rates_sentence() is None


def test_the_rates_sentence_names_each_kind_of_swap_apart():
    kinds = [{"kind": "FaceForensics++ swaps", "tpr": 0.72}, {"kind": "inswapper swaps", "tpr": 0.09}]
    c = _config(threshold=0.9, real_below=0.1,
                rates={"outside": {"fpr": 0.02, "tpr": 0.4, "fnr": 0.05, "sets": "FF++ clips", "by_kind": kinds}})
    s = c.rates_sentence()
    assert "about 72 in 100 FaceForensics++ swaps and about 9 in 100 inswapper swaps" in s
    assert "about 2 in 100 real faces fake" in s and "about 5 in 100 swaps" in s
    assert "about 40 in 100" not in s  # the average that hid the weak kind is not said
