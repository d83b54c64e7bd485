"""Imputation metrics (spec 1.2): hand cases, invariants and SciPy references."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import wasserstein_distance

from freqbook.metrics.imputation import all_metrics, masked_mse, max_error, w2, w2_1d


def test_masked_mse_hand_case():
    pred = np.array([[[1.0], [2.0], [3.0]]])
    truth = np.array([[[0.0], [0.0], [100.0]]])
    mask = np.array([[[True], [True], [False]]])
    assert masked_mse(pred, truth, mask) == pytest.approx(2.5)
    # torch input gives the same
    assert masked_mse(torch.tensor(pred), torch.tensor(truth), torch.tensor(mask)) == 2.5


def test_nan_outside_the_mask_is_ignored_inside_raises():
    pred = np.array([[[1.0], [np.nan]]])
    truth = np.array([[[0.0], [np.nan]]])
    assert masked_mse(pred, truth, np.array([[[True], [False]]])) == 1.0
    with pytest.raises(ValueError, match="NaN"):
        masked_mse(pred, truth, np.ones_like(pred, dtype=bool))


def test_max_error_per_series_and_global():
    pred = np.zeros((3, 2, 1))
    truth = np.array([[[1.0], [3.0]], [[-2.0], [0.5]], [[9.0], [9.0]]])
    mask = np.array([[[True], [True]], [[True], [False]], [[False], [False]]])
    assert max_error(pred, truth, mask) == pytest.approx((3.0 + 2.0) / 2)  # series 3 skipped
    assert max_error(pred, truth, mask, reduce="global") == 3.0


def test_w2_properties():
    rng = np.random.default_rng(0)
    a = rng.normal(size=40)
    assert w2_1d(a, a) == 0.0
    assert w2_1d(a, a + 0.7) == pytest.approx(0.7)
    assert w2_1d(rng.permutation(a), a) == pytest.approx(0.0)
    b = rng.normal(size=40)
    assert w2_1d(a, b) ** 2 <= np.mean((a - b) ** 2) + 1e-12  # MSE >= W2^2


def test_w2_hand_case_and_scipy_w1_bound():
    a, b = np.array([0.0, 1.0]), np.array([3.0, 1.0])
    # sorted: (0, 1) vs (1, 3): sqrt((1 + 4) / 2)
    assert w2_1d(a, b) == pytest.approx(np.sqrt(2.5))
    rng = np.random.default_rng(1)
    for _ in range(5):
        x, y = rng.normal(size=30), rng.standard_t(3, size=30)
        w1 = wasserstein_distance(x, y)  # SciPy's is W1: equal to the mean sorted |diff|
        assert w1 == pytest.approx(np.mean(np.abs(np.sort(x) - np.sort(y))))
        assert w2_1d(x, y) >= w1 - 1e-12  # W2 >= W1 (Jensen)


def test_w2_per_series_feature_matches_loop_reference():
    rng = np.random.default_rng(2)
    pred, truth = rng.normal(size=(5, 12, 3)), rng.normal(size=(5, 12, 3))
    mask = rng.random((5, 12, 3)) < 0.4
    mask[0, :, 0] = False
    mask[1, :, 1] = False
    mask[1, 3, 1] = True  # a single entry: skipped
    ref = [w2_1d(pred[i, mask[i, :, d], d], truth[i, mask[i, :, d], d])
           for i in range(5) for d in range(3) if mask[i, :, d].sum() >= 2]
    assert w2(pred, truth, mask) == pytest.approx(np.mean(ref))


def test_all_metrics_keys_and_shape_errors():
    x = np.zeros((2, 3, 1))
    out = all_metrics(x, x, np.ones_like(x, dtype=bool))
    assert set(out) == {"mse", "max", "w2", "max_global"} and out["mse"] == 0.0
    with pytest.raises(ValueError, match="shapes differ"):
        masked_mse(x, np.zeros((2, 3, 2)), np.ones((2, 3, 1), bool))
