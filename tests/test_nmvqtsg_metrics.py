"""Generative metrics: Fréchet distance vs the sqrtm reference, IS, cFID, ROCKET features."""

from __future__ import annotations

import numpy as np
import pytest

from freqbook.metrics.generative import (
    class_fid,
    frechet_distance,
    frechet_distance_sqrtm,
    inception_score,
    remove_outliers,
)


def test_frechet_distance_of_a_set_with_itself_is_zero():
    Z = np.random.default_rng(0).normal(size=(80, 30))
    assert frechet_distance(Z, Z) == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize(("n1", "n2", "d"), [(200, 150, 10), (40, 30, 60)])
def test_frechet_distance_matches_sqrtm_reference(n1, n2, d):
    rng = np.random.default_rng(1)
    A = rng.normal(size=(n1, d)) @ rng.normal(size=(d, d)) * 0.3
    B = rng.normal(size=(n2, d)) + 0.5
    fast, ref = frechet_distance(A, B), frechet_distance_sqrtm(A, B)
    assert fast == pytest.approx(ref, rel=1e-6)


def test_frechet_distance_of_shifted_gaussians_is_the_squared_shift():
    rng = np.random.default_rng(2)
    Z = rng.normal(size=(4000, 3))
    shift = np.array([1.0, -2.0, 0.5])
    assert frechet_distance(Z, Z + shift) == pytest.approx(float(shift @ shift), rel=1e-6)


def test_frechet_distance_rejects_mismatched_dimensions():
    with pytest.raises(ValueError, match="same d"):
        frechet_distance(np.zeros((5, 3)), np.zeros((5, 4)))


def test_inception_score_bounds():
    k = 5
    confident_diverse = np.eye(k)[np.arange(100) % k]
    assert inception_score(confident_diverse, splits=5, seed=None)[0] == pytest.approx(k, rel=1e-6)
    uniform = np.full((100, k), 1 / k)
    assert inception_score(uniform, splits=5)[0] == pytest.approx(1.0)
    collapsed = np.eye(k)[np.zeros(100, dtype=int)]
    assert inception_score(collapsed, splits=5)[0] == pytest.approx(1.0, abs=1e-6)


def test_class_fid_and_outliers():
    rng = np.random.default_rng(3)
    Z = rng.normal(size=(60, 4))
    y = np.repeat([0, 1], 30)
    per = class_fid(Z, y, {0: Z[y == 0], 1: Z[y == 1] + 3.0}, outliers=False)
    assert per[0] == pytest.approx(0.0, abs=1e-9)
    assert per[1] == pytest.approx(4 * 9.0, rel=1e-6)
    kept = remove_outliers(rng.normal(size=(100, 4)))
    assert 85 <= len(kept) <= 95


def test_rocket_features_are_unit_rows_and_fixed_by_seed():
    from freqbook.metrics.generative import RocketFeatures

    X = np.random.default_rng(4).normal(size=(12, 1, 40))
    Z1 = RocketFeatures(20, seed=7)(X)
    Z2 = RocketFeatures(20, seed=7)(X)
    assert Z1.shape == (12, 40)
    assert np.allclose(np.linalg.norm(Z1, axis=1), 1.0)
    assert np.array_equal(Z1, Z2)
