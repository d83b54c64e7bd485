"""Metric conventions (``papers/siren.md`` §2.5 and §6 item 6).

Conventions pinned here:

* ``psnr(p, t, data_range=R)`` is ``10 log10(R^2 / MSE)``, identical to scikit-image's
  ``peak_signal_noise_ratio`` with the same explicit ``data_range``.
* SIREN (``utils.write_psnr``): [-1, 1] signals are mapped to [0, 1] by ``x/2 + 0.5``, the
  *prediction only* is clipped to [0, 1], ``data_range = 1``. Without clipping this equals PSNR on
  the [-1, 1] scale with ``data_range = 2``.
* WINNER: peak 1 on the [-1, 1] scale (``data_range = 1`` without mapping), which reads
  ``20 log10(2) = 6.02 dB`` lower than the SIREN number for the same (in-range) fit.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from skimage.metrics import peak_signal_noise_ratio

from freqbook.metrics import pearson, psnr, psnr_from_mse, psnr_siren_convention

RNG_SEED = 1234


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(RNG_SEED)


@pytest.mark.parametrize("data_range", [1.0, 2.0, 255.0, 0.37])
def test_psnr_matches_skimage(rng, data_range):
    # Guards the formula (10 vs 20 log10, range squared or not, MSE vs RMSE).
    target = rng.uniform(0, data_range, size=(33, 17))
    pred = target + rng.normal(0, 0.05 * data_range, size=target.shape)
    ours = psnr(pred, target, data_range=data_range)
    ref = peak_signal_noise_ratio(target, pred, data_range=data_range)
    assert ours == pytest.approx(ref, rel=1e-12)
    # Torch tensors (float32) are accepted and give the same number up to float32 rounding.
    ours_t = psnr(torch.from_numpy(pred).float(), torch.from_numpy(target).float(),
                  data_range=data_range)
    assert ours_t == pytest.approx(ref, abs=1e-4)


def test_psnr_scales_with_data_range(rng):
    # Doubling the range adds 20 log10(2) dB: guards using data_range instead of data_range^2.
    t = rng.random((16, 16))
    p = t + 0.01 * rng.standard_normal(t.shape)
    assert psnr(p, t, data_range=2.0) - psnr(p, t, data_range=1.0) == pytest.approx(
        20 * math.log10(2), rel=1e-12
    )


def test_psnr_shape_mismatch_raises(rng):
    # Guards silent broadcasting of (N, 1) against (N,), which gives a wrong MSE.
    with pytest.raises(ValueError, match="shape"):
        psnr(rng.random((10, 1)), rng.random(10), data_range=1.0)
    with pytest.raises(ValueError, match="shape"):
        psnr_siren_convention(rng.random((4, 4)), rng.random((4, 5)))


def test_psnr_identical_is_inf(rng):
    x = rng.random((8, 8))
    assert psnr(x, x.copy(), data_range=1.0) == math.inf
    assert psnr_siren_convention(x * 2 - 1, x * 2 - 1) == math.inf


def test_siren_convention_matches_mapped_skimage(rng):
    target = rng.uniform(-1, 1, size=(32, 32))
    # Predictions overshoot [-1, 1] in places.
    pred = target + rng.normal(0, 0.3, size=target.shape)
    assert (np.abs(pred) > 1).any()
    ours = psnr_siren_convention(pred, target)
    p01 = np.clip(pred / 2 + 0.5, 0, 1)
    t01 = target / 2 + 0.5
    assert ours == pytest.approx(peak_signal_noise_ratio(t01, p01, data_range=1.0), rel=1e-12)
    # Clipping only helps (the target lies inside [0, 1]) and changes the value here: guards a
    # missing clip.
    unclipped = peak_signal_noise_ratio(t01, pred / 2 + 0.5, data_range=1.0)
    assert ours > unclipped + 0.1


def test_siren_convention_clips_prediction_only():
    # The target is *not* clipped (official code clamps the prediction only): a target outside
    # [-1, 1] keeps its error.
    target = np.array([1.5, 0.0])
    pred = np.array([1.0, 0.0])
    # Mapped: target 1.25 vs pred 1.0 -> MSE = 0.0625 / 2.
    assert psnr_siren_convention(pred, target) == pytest.approx(10 * math.log10(2 / 0.0625))


def test_siren_convention_equals_range_two_without_clipping(rng):
    # In-range predictions: mapping [-1, 1] -> [0, 1] with range 1 equals range 2 on [-1, 1].
    target = rng.uniform(-0.8, 0.8, size=500)
    pred = np.clip(target + rng.normal(0, 0.05, size=500), -1, 1)
    assert psnr_siren_convention(pred, target) == pytest.approx(
        psnr(pred, target, data_range=2.0), rel=1e-12
    )


def test_winner_convention_is_6db_lower(rng):
    # WINNER-style: peak 1 on the [-1, 1] scale. Same fit, 20 log10(2) = 6.0206 dB lower than
    # SIREN's number; never compare the two without converting.
    target = rng.uniform(-0.9, 0.9, size=(20, 20))
    pred = np.clip(target + rng.normal(0, 0.02, size=target.shape), -1, 1)
    siren = psnr_siren_convention(pred, target)
    winner = psnr(pred, target, data_range=1.0)
    assert siren - winner == pytest.approx(20 * math.log10(2), abs=1e-9)
    assert siren - winner == pytest.approx(6.0206, abs=1e-4)


def test_psnr_from_mse_vectorised():
    # Vectorised over any shape, equals the scalar formula element-wise, honours data_range.
    mse = torch.tensor([[1e-2, 1e-3], [4e-4, 1.0]], dtype=torch.float64)
    out = psnr_from_mse(mse)
    assert out.shape == mse.shape
    expected = torch.tensor([[20.0, 30.0], [10 * math.log10(2500), 0.0]], dtype=torch.float64)
    torch.testing.assert_close(out, expected)
    torch.testing.assert_close(psnr_from_mse(mse, data_range=2.0),
                               expected + 20 * math.log10(2))
    # Same numbers as psnr() on arrays with those MSEs.
    p = np.zeros(4)
    t = np.full(4, 0.1)
    assert psnr_from_mse(torch.tensor(0.01)).item() == pytest.approx(psnr(p, t, data_range=1.0))


def test_pearson_matches_corrcoef(rng):
    a = rng.standard_normal((20, 30))
    b = 0.3 * a + rng.standard_normal((20, 30))
    assert pearson(a, b) == pytest.approx(np.corrcoef(a.ravel(), b.ravel())[0, 1], rel=1e-12)
    # Invariant under affine maps, sign flips with a negative scale.
    assert pearson(3 * a + 1, b) == pytest.approx(pearson(a, b), rel=1e-12)
    assert pearson(-a, b) == pytest.approx(-pearson(a, b), rel=1e-12)
    assert pearson(a, a) == pytest.approx(1.0)
    # Torch input works too.
    assert pearson(torch.from_numpy(a), torch.from_numpy(b)) == pytest.approx(pearson(a, b))


def test_pearson_constant_is_zero(rng):
    # A ReLU network's Laplacian is identically 0: the correlation must be 0, not nan.
    b = rng.standard_normal(1000)
    assert pearson(np.zeros(1000), b) == 0.0
    assert pearson(b, np.full(1000, 0.5)) == 0.0
    # A constant that is not exactly representable leaves a rounding residual after centring;
    # the result must still be ~0 (not nan, not +-1).
    assert abs(pearson(np.full(1000, 0.1), b)) < 1e-12


def test_pearson_two_inexact_constants_is_zero():
    # centring leaves equal rounding residuals; without a constant-input guard this gives -1.0
    assert pearson(np.full(1000, 0.1), np.full(1000, 0.3)) == 0.0
