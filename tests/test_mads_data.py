"""MADS data: loaders against known shapes, synthetic generator, masks kept apart."""

from __future__ import annotations

import os

import numpy as np
import pytest

from freqbook.data import activity, airquality, synthetic_sines
from freqbook.data.missingness import (
    ImputationSet,
    block_mask,
    random_point_mask,
    scale_times,
    standardise,
)
from freqbook.data.registry import REGISTRY
from freqbook.experiments.mads import baselines

needs_mirror = pytest.mark.skipif(
    not os.environ.get("FREQBOOK_DATA"),
    reason="FREQBOOK_DATA is not set (CI points it at ../shared/data)",
)


def test_registry_has_the_three_mads_files():
    for name in (activity.NAME, airquality.BEIJING, airquality.ITALY):
        assert name in REGISTRY and len(REGISTRY[name].sha256) == 64


@needs_mirror
def test_human_activity_windows_match_the_spec():
    w = activity.windows()
    assert w.values.shape == (655, 50, 12) and w.times.shape == (655, 50)
    assert np.all(np.diff(w.times, axis=1) > 0) and np.all(w.times[:, 0] == 0)
    # one tag (3 channels) per 10 ms bin -> 25 % observed (spec 4.1)
    assert w.observed.mean() == pytest.approx(0.25, abs=0.01)
    assert np.array_equal(np.isnan(w.values), ~w.observed)
    assert np.median(w.times[:, -1]) == pytest.approx(160, abs=10)  # ~1.6 s
    tr, te = activity.split_indices(655)
    assert (len(tr), len(te)) == (524, 131) and not set(tr) & set(te)


@needs_mirror
def test_air_quality_shapes_match_benchpots():
    b = airquality.load("beijing")
    assert (b.train.shape, b.val.shape, b.test.shape) == (
        (852, 24, 132), (305, 24, 132), (304, 24, 132))
    assert np.isnan(b.train).mean() == pytest.approx(0.0185, abs=0.002)
    i = airquality.load("italy")
    assert (i.train.shape, i.val.shape, i.test.shape) == ((467, 12, 13), (155, 12, 13),
                                                          (155, 12, 13))
    assert not (i.train == -200).any()  # sentinel converted
    with pytest.raises(ValueError, match="unknown air-quality"):
        airquality.load("paris")


def test_synthetic_generator_is_deterministic_and_bounded():
    cfg = synthetic_sines.config("highf-highd")
    t1, x1 = synthetic_sines.generate(cfg, 5, np.random.default_rng(0))
    t2, x2 = synthetic_sines.generate(cfg, 5, np.random.default_rng(0))
    assert x1.shape == (5, 50, 32) and np.array_equal(x1, x2)
    assert np.abs(x1).max() <= 3.0  # 3 components with amplitude <= 1
    with pytest.raises(ValueError, match="unknown synthetic"):
        synthetic_sines.config("nope")


def test_low_frequency_config_is_smoother():
    rough = []
    for name in ("lowf-lowd", "highf-lowd"):
        _, x = synthetic_sines.generate(synthetic_sines.config(name), 200,
                                        np.random.default_rng(1))
        rough.append(np.mean(np.diff(x, axis=1) ** 2) / np.mean(x**2))
    assert rough[0] < rough[1]


def test_point_mask_removes_exactly_the_rate_of_observed_entries():
    rng = np.random.default_rng(0)
    obs = rng.random((4, 20, 3)) < 0.5
    rem = random_point_mask(obs, 0.5, rng)
    assert not (rem & ~obs).any()
    for i in range(4):
        assert rem[i].sum() == round(0.5 * obs[i].sum())


def test_block_mask_is_contiguous_and_within_observed():
    rng = np.random.default_rng(0)
    obs = np.ones((3, 30, 2), bool)
    rem = block_mask(obs, 0.3, rng, block=5)
    assert not (rem & ~obs).any()
    assert 0.25 <= rem.mean() <= 0.45
    # runs of removed steps are multiples of whole blocks or merged blocks (>= 5 long)
    run = np.diff(np.concatenate([[0], rem[0, :, 0].astype(int), [0]]))
    starts, ends = np.flatnonzero(run == 1), np.flatnonzero(run == -1)
    assert np.all(ends - starts >= 5)


def test_imputation_set_keeps_the_three_masks_apart():
    values = np.arange(12.0).reshape(1, 4, 3)
    observed = np.ones_like(values, dtype=bool)
    observed[0, 0, 0] = False
    values[0, 0, 0] = np.nan
    removed = np.zeros_like(observed)
    removed[0, 1, 1] = True
    s = ImputationSet(np.zeros((1, 4)), values, observed, removed)
    assert s.originally_missing.sum() == 1 and s.removed.sum() == 1
    assert s.input.sum() == 10 and np.isnan(s.x_input[0, 1, 1]) and np.isnan(s.x_input[0, 0, 0])
    with pytest.raises(ValueError, match="originally observed"):
        ImputationSet(np.zeros((1, 4)), values, observed, ~observed)


def test_standardise_and_time_scaling():
    a = np.array([[[1.0], [3.0]], [[np.nan], [5.0]]])
    tr, te, mu, sd = standardise(a, a + 1)
    assert mu[0] == pytest.approx(3.0) and np.nanmean(tr) == pytest.approx(0.0)
    t = scale_times(np.array([[0.0, 1.0, 2.0], [5.0, 6.0, 9.0]]), 4.0)
    assert np.allclose(t, [[-1, -0.5, 0], [-1, -0.5, 1]])  # one global span


def test_classical_baselines_hand_cases():
    t = np.array([[0.0, 1.0, 3.0, 4.0]])
    x = np.array([[[np.nan], [1.0], [np.nan], [4.0]]])
    assert np.allclose(baselines.lerp_impute(t, x)[0, :, 0], [1.0, 1.0, 3.0, 4.0])
    assert np.allclose(baselines.locf_impute(t, x)[0, :, 0], [1.0, 1.0, 1.0, 4.0])
    assert np.allclose(baselines.mean_impute(t, x)[0, :, 0], [2.5, 1.0, 2.5, 4.0])
    empty = np.full((1, 4, 1), np.nan)
    for name in baselines.CLASSICAL:
        assert np.all(baselines.impute(name, t, empty) == 0.0)
