"""SIREN activation statistics at init (paper Sec. 3.2, supplement Sec. 1): maths, record, claims.

The Gaussian-recursion theory behind the tolerances is in ``tests/test_siren_init.py`` and in
:func:`freqbook.experiments.siren.activations.predicted_pre_std`.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch
from scipy import special, stats

from freqbook.experiments.siren import activations as act
from freqbook.results import evaluate, load_record, save_record

CLAIM_IDS = [
    "Q-init-distributions",
    "Q-init-preact-std-low",
    "Q-init-preact-std-high",
    "Q-init-postact-arcsine",
    "Q-abstract-init",
    "Q-init-wrong-scale-leaves-band",
    "Q-init-spectrum-depth",
]


@pytest.fixture(scope="module")
def smoke_record(tmp_path_factory):
    root = tmp_path_factory.mktemp("results")
    cfg = act.config_for("smoke")
    ds = act.run(cfg, progress=False, device="cpu")
    save_record(ds, paper="siren", experiment="activations", profile="smoke", config=cfg,
                seeds=list(cfg.seeds), wall_s=0.0, root=root)
    return root, ds, cfg


# --- maths -------------------------------------------------------------------------------------


def test_ks_distance_matches_scipy_and_a_closed_form():
    rng = np.random.default_rng(0)
    sample = rng.normal(size=5000)
    assert act.ks_distance(sample, special.ndtr) == pytest.approx(
        stats.kstest(sample, "norm").statistic, abs=1e-12)
    assert act.ks_distance(np.zeros(7), special.ndtr) == pytest.approx(0.5)
    # U(-1, 1) against arcsine: sup_y |y/2 - arcsin(y)/pi| at y = sqrt(1 - 4/pi^2).
    y = math.sqrt(1 - 4 / math.pi**2)
    exact = y / 2 - math.asin(y) / math.pi
    uniform = np.linspace(-1, 1, 200_001)
    assert act.ks_distance(uniform, act.arcsine_cdf) == pytest.approx(exact, abs=1e-4)
    # sin of a wide uniform phase is exactly arcsine.
    assert act.ks_distance(np.sin(rng.uniform(-300, 300, 200_000)), act.arcsine_cdf) < 0.005


def test_first_layer_second_moment_formula():
    # E[sin^2(30 w x)], w, x ~ U(-1, 1): 1/2 (1 - Si(60)/60), used by predicted_pre_std.
    rng = np.random.default_rng(1)
    u = rng.uniform(-1, 1, 2_000_000) * rng.uniform(-1, 1, 2_000_000)
    assert np.mean(np.sin(30 * u) ** 2) == pytest.approx(
        0.5 * (1 - special.sici(60.0)[0] / 60.0), abs=2e-3)


@pytest.mark.parametrize("width", [256, 1024, 2048])
def test_predicted_pre_std_limits(width):
    cfg = dataclasses.replace(act.config_for("paper"), hidden_features=width, hidden_layers=30)
    zero = act.predicted_pre_std("siren_zero", cfg)
    assert zero[0] == pytest.approx(10.0)  # 30 * sd(w x) = 30 / 3
    assert zero[1] == pytest.approx(1.0, abs=0.02)  # 2 E[sin^2] with the first layer's ~1/2
    assert zero[-1] == pytest.approx(math.sqrt(0.79681), abs=1e-4)  # v = 1 - exp(-2 v)
    assert np.all(np.diff(zero[1:]) <= 1e-12)  # falls monotonically to the fixed point
    # PyTorch biases: the first hidden layer has 1 + omega_0^2/(3n) (papers/siren.md §6.5);
    # deeper, E[sin^2] < 1/2 pulls it down towards (not below) the bias-free fixed point.
    torch_bias = act.predicted_pre_std("siren_torch", cfg)
    formula = math.sqrt(1 + 900 / (3 * width))
    assert torch_bias[1] == pytest.approx(formula, rel=1e-3)
    assert zero[-1] + 0.1 < torch_bias[-1] <= formula * 1.01
    wrong = act.predicted_pre_std("wrong_omega", cfg)
    assert wrong[1] == pytest.approx(math.sqrt(2 / 900 * 0.487), rel=0.01)
    assert wrong[5] < 1e-6
    assert act.predicted_pre_std("torch_default", cfg)[-1] == pytest.approx(
        math.sqrt(150 + 300 / width), rel=0.01)


def test_build_case_rejects_unknown_names():
    with pytest.raises(ValueError, match="siren_zero"):
        act.build_case("xavier", act.config_for("smoke"))
    with pytest.raises(ValueError, match="unknown cases"):
        act.ActivationsConfig(cases=("siren",))


# --- the record --------------------------------------------------------------------------------


def test_record_layout_and_theory(smoke_record):
    root, ds, cfg = smoke_record
    back = load_record("siren", "activations", "smoke", root=root)
    n_layers = cfg.hidden_layers + 1
    assert list(back["case"].values) == list(act.CASES)
    assert back["pre_std"].dims == ("case", "seed", "layer")
    assert back["pre_std"].shape == (4, len(cfg.seeds), n_layers)
    assert back["spectrum"].shape == (4, n_layers, cfg.points // 2 + 1)
    np.testing.assert_allclose(back["post_ks"].values, ds["post_ks"].values)
    # Histograms are densities: they integrate to 1 minus the mass outside the range.
    width = float(ds["pre_bin"][1] - ds["pre_bin"][0])
    mass = ds["pre_hist"].sum("pre_bin") * width + ds["pre_outside"]
    np.testing.assert_allclose(mass.values, 1.0, atol=1e-9)
    # Measured std follows the recursion in every case and layer (width 256: 10 %; a wrong
    # omega_0 factor or init constant is off by >= 2x). Near-zero stds compared in log.
    measured = ds["pre_std"].mean("seed")
    ratio = np.log(measured / ds["pre_std_theory"]).values
    assert np.abs(ratio[:, : 4]).max() < 0.10, ratio
    zero = ds["pre_std"].sel({"case": "siren_zero"}).values
    assert zero[:, 0] == pytest.approx(10.0, rel=0.05)
    # First-layer output is exactly arcsine; deep SIREN layers are sin(N(0, 0.8)), KS ~0.065.
    assert float(ds["post_ks"].sel({"case": "siren_zero", "layer": 0}).max()) < 0.03
    deep = ds["post_ks"].sel({"case": "siren_zero"}).values[:, -1]
    assert np.all((deep > 0.04) & (deep < 0.09))


def test_spectrum_frequency_axis(smoke_record):
    # The first layer's units are pure tones sin(30 w x + 0), |30 w| <= 30 rad per unit x: its
    # 95 % bandwidth sits just below 30 (a 2 or 2 pi error in the frequency axis would not).
    _, ds, _ = smoke_record
    first = ds["bandwidth"].sel({"layer": 0, "case": "siren_zero"}).values
    assert np.all((first > 24) & (first < 31))
    spec = ds["spectrum"].sel({"case": "siren_zero", "layer": 0}).values
    assert np.nansum(spec) == pytest.approx(1.0)
    assert np.nansum(spec[ds["freq"].values <= 33]) > 0.99
    # Deeper layers spread power above omega_0.
    last = ds["spectrum"].sel({"case": "siren_zero"}).isel(layer=-1).values
    assert np.nansum(last[ds["freq"].values > 33]) > 10 * np.nansum(spec[ds["freq"].values > 33])


def test_grid_statistics_equal_uniform_statistics():
    # The grid is the quadrature of x ~ U(-1, 1): pooled statistics agree with random inputs.
    cfg = act.ActivationsConfig(hidden_features=128, hidden_layers=3, points=1024,
                                cases=("siren_zero",), ks_samples=20_000, hist_samples=20_000)
    grid = act.run(cfg, device="cpu")
    uniform = act.run(dataclasses.replace(cfg, inputs="uniform"), device="cpu")
    np.testing.assert_allclose(uniform["pre_std"].values, grid["pre_std"].values, rtol=0.05)
    np.testing.assert_allclose(uniform["post_std"].values, grid["post_std"].values, rtol=0.03)


# --- claims ------------------------------------------------------------------------------------


def test_claims_hold_at_smoke(smoke_record):
    root, _, _ = smoke_record
    table = evaluate("siren", "smoke", root=root, ids=CLAIM_IDS).set_index("id")
    # one smoke seed: a worst-case-over-seeds check that holds reads inconclusive (seed noise
    # unknown); at cpu (3 seeds) the same checks can read reproduced
    for cid in CLAIM_IDS:
        assert table.loc[cid, "verdict"] in ("reproduced", "inconclusive"), (
            cid, table.loc[cid, "ours"])


def test_claims_can_fail(smoke_record, tmp_path):
    # Swap the SIREN rows for the PyTorch-default ones: every SIREN check must then fail.
    _, ds, cfg = smoke_record
    bad = ds.copy(deep=True)
    for var in ("pre_ks_max", "pre_std_min", "pre_std_max", "pre_std_drift", "bandwidth_growth"):
        bad[var].loc[{"case": "siren_zero"}] = ds[var].sel({"case": "wrong_omega"}).values
    bad["pre_std_max"].loc[{"case": "siren_zero"}] = 12.0
    bad["post_ks_max"].loc[{"case": "siren_zero"}] = 0.5
    bad["pre_std_drift"].loc[{"case": "siren_zero"}] = 0.2
    bad["pre_logdev_max"].loc[{"case": "torch_default"}] = 0.1
    save_record(bad, paper="siren", experiment="activations", profile="smoke", config=cfg,
                seeds=list(cfg.seeds), wall_s=0.0, root=tmp_path)
    table = evaluate("siren", "smoke", root=tmp_path, ids=CLAIM_IDS).set_index("id")
    assert (table["verdict"] == "not reproduced").all(), table[["ours", "verdict"]]


# --- the paper profile -------------------------------------------------------------------------


def test_paper_profile_is_the_colab_study_and_runs_on_tiny_data():
    cfg = act.config_for("paper")
    assert (cfg.hidden_features, cfg.hidden_layers, cfg.points, cfg.omega_0) == (
        2048, 10, 16384, 30.0)
    assert cfg.cases == act.CASES
    # Paper-size networks (11 sine layers of width 2048), 64 inputs instead of 16 384.
    tiny = dataclasses.replace(cfg, points=64, cases=("siren_torch",),
                               ks_samples=5000, hist_samples=5000, spectrum_units=16)
    torch.manual_seed(0)
    ds = act.run(tiny, device="cpu")
    assert ds["pre_std"].shape == (1, 1, 11)
    assert np.isfinite(ds["pre_std"].values).all()
    # Width 2048 with PyTorch biases: sqrt(1 + 900/6144) = 1.071 in the first hidden layer,
    # 1.009 in the last (see predicted_pre_std); 64 inputs leave ~10 % noise.
    theory = ds["pre_std_theory"].sel({"case": "siren_torch"}).values
    assert theory[[1, -1]] == pytest.approx([1.071, 1.009], abs=1e-3)
    measured = ds["pre_std"].sel({"case": "siren_torch"}).values[0]
    np.testing.assert_allclose(measured[1:], theory[1:], rtol=0.15)
