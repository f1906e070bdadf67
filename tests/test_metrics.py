import numpy as np
import pytest

from unswap import metrics


def _pairwise_auc(y, s):
    pos, neg = s[y == 1], s[y == 0]
    diff = pos[:, None] - neg[None, :]
    return (np.sum(diff > 0) + 0.5 * np.sum(diff == 0)) / diff.size


def test_auc_matches_pair_counting_with_ties():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    s = np.round(rng.normal(y * 0.8, 1.0), 1)  # rounding makes ties
    assert metrics.roc_auc(y, s) == pytest.approx(_pairwise_auc(y, s), abs=1e-12)


def test_perfect_and_inverted_scores():
    y = np.array([0, 0, 1, 1])
    assert metrics.roc_auc(y, [0.1, 0.2, 0.8, 0.9]) == 1.0
    assert metrics.roc_auc(y, [0.9, 0.8, 0.2, 0.1]) == 0.0
    assert metrics.average_precision(y, [0.1, 0.2, 0.8, 0.9]) == 1.0
    assert metrics.equal_error_rate(y, [0.1, 0.2, 0.8, 0.9]) == 0.0
    assert metrics.accuracy(y, [0.1, 0.2, 0.8, 0.9], 0.5) == 1.0


def test_eer_of_overlapping_classes():
    # scores 0..3: one real above one fake -> EER 0.5 at the crossing
    y = np.array([0, 1, 0, 1])
    assert metrics.equal_error_rate(y, [0, 1, 2, 3]) == pytest.approx(0.5)


def test_ece_zero_when_calibrated_and_large_when_not():
    rng = np.random.default_rng(1)
    p = rng.uniform(0, 1, 200_000)
    y = rng.uniform(0, 1, p.size) < p
    assert metrics.expected_calibration_error(y, p) < 0.01
    assert metrics.expected_calibration_error(y, np.clip(p * 0.5, 0, 1)) > 0.2


def test_balanced_threshold_separates():
    y = np.array([0, 0, 0, 1, 1])
    t = metrics.balanced_threshold(y, [0.1, 0.2, 0.3, 0.7, 0.9])
    assert 0.3 < t <= 0.7


def test_auc_needs_both_classes():
    with pytest.raises(ValueError):
        metrics.roc_auc([1, 1], [0.2, 0.3])


def test_platt_recovers_a_known_calibration():
    from unswap.calibrate import fit_platt
    from unswap.detectors.base import sigmoid

    rng = np.random.default_rng(2)
    z = rng.normal(0, 3, 20_000)
    y = rng.uniform(0, 1, z.size) < sigmoid(0.5 * z - 1.0)
    a, b = fit_platt(z, y)
    assert a == pytest.approx(0.5, abs=0.05) and b == pytest.approx(-1.0, abs=0.08)


def test_platt_is_stable_on_separable_and_useless_scores():
    from unswap.calibrate import fit_platt

    y = np.r_[np.zeros(100), np.ones(100)]
    a, b = fit_platt(np.r_[np.full(100, -50.0), np.full(100, 50.0)], y)
    assert np.isfinite([a, b]).all() and a > 0
    a, b = fit_platt(np.random.default_rng(0).normal(0, 1, 200), y)
    assert abs(a) < 0.5 and abs(b) < 0.5


def test_degradations_change_the_crop_the_way_they_say():
    from unswap.evaluate import degrade_crop

    rng = np.random.default_rng(0)
    crop = rng.integers(0, 256, (224, 224, 3), dtype=np.uint8)
    assert np.array_equal(degrade_crop(crop, "none"), crop)
    half = degrade_crop(crop, "half")
    assert half.shape == crop.shape
    # noise loses its finest detail when halved: neighbouring pixels become alike
    assert np.abs(np.diff(half.astype(int), axis=1)).mean() < 0.6 * np.abs(np.diff(crop.astype(int), axis=1)).mean()
    jpeg = degrade_crop(crop, "jpeg40")
    assert jpeg.shape == crop.shape and 5 < np.abs(jpeg.astype(int) - crop).mean()
    assert not np.array_equal(degrade_crop(crop, "half+jpeg40"), half)
