"""CBD experiments: profiles, the paper profile's models (built + one step), bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from freqbook.experiments.cbd import ablation, common, mechanisms, method, table1
from freqbook.experiments.cbd.probe import finetune, logistic_probe
from freqbook.experiments.cbd.training import OptimConfig, encode, pretrain
from freqbook.models.cbd import CBDModel, LossWeights, variant
from freqbook.profiles import ProfileError

MODULES = (table1, ablation, mechanisms, method)


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_every_profile_builds_and_seeds_shift(module):
    for profile in ("smoke", "cpu", "paper"):
        cfg = module.config_for(profile, seed=3)
        assert min(cfg.seeds) == 3
    with pytest.raises(ProfileError, match="unknown profile"):
        module.config_for("gpu")


def test_paper_profile_is_the_papers_settings():
    cfg = table1.config_for("paper")
    m, o = cfg.model, cfg.optim
    assert (m.d_model, m.enc_layers, m.td_layers, m.cbd_layers, m.order) == (128, 8, 2, 2, 12)
    assert (m.mask_ratio, m.res_init, cfg.loss.gamma) == (0.75, 1e-8, 0.5)
    assert (o.lr, o.weight_decay, o.betas, o.batch_size, o.epochs) == (1e-4, 3e-4, (0.9, 0.99),
                                                                        128, 100)
    assert len(cfg.seeds) == 5
    assert ablation.config_for("paper").orders == (1, 2, 4, 8, 12, 16)


@pytest.mark.parametrize("name", ["mtm", "cbd", "no_ser", "no_cim", "cbd_only"])
def test_paper_models_take_one_step_on_tiny_data(name):
    """Paper-size models of AWR's shape (9 x 144) and one pre-training step on 4 series."""
    cfg = table1.config_for("paper")
    m_cfg, w = variant(name, cfg.model, cfg.loss)
    model = CBDModel(9, 144, m_cfg)
    X = np.random.default_rng(0).normal(size=(4, 9, 144)).astype(np.float32)
    before = [p.detach().clone() for p in model.parameters()]
    hist = pretrain(model, X, w, OptimConfig(**{**cfg.optim.__dict__, "epochs": 1}), 0,
                    progress=False)
    assert len(hist.loss) == 1 and np.isfinite(hist.loss[0])
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
    feats = encode(model, X)
    assert feats.shape == (4, 128)


def test_finetune_selects_on_validation_and_probe_learns():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(24, 2, 16)).astype(np.float32)
    y = np.repeat([0, 1], 12)
    X[y == 1, 0] += 2.0
    model = CBDModel(2, 16, common.SMOKE_MODEL)
    res = finetune(model.encoder, 2, X[::2], y[::2], X[1::2], y[1::2], X, y,
                   OptimConfig(lr=1e-3, batch_size=8, epochs=3), 0, progress=False)
    assert 1 <= res["best_epoch"] <= 3 and 0 <= res["acc"] <= 100
    feats = X.reshape(24, -1).astype(np.float64)
    assert (logistic_probe(feats, y, feats) == y).mean() > 0.9


def test_bad_inputs_are_one_line_errors():
    with pytest.raises(ValueError, match="unknown datasets"):
        table1.Table1Config(datasets=("HAR",))
    with pytest.raises(ValueError, match="unknown methods"):
        table1.Table1Config(methods=("timemae",))
    with pytest.raises(ValueError, match="unknown variants"):
        ablation.AblationConfig(variants=("no_ffn",))
    with pytest.raises(ValueError, match="snapshots"):
        mechanisms.MechanismConfig(snapshots=(0, 500))


def test_pretrain_nan_guard():
    from freqbook.train import DivergenceError

    model = CBDModel(1, 16, common.SMOKE_MODEL)
    X = np.full((4, 1, 16), np.inf, dtype=np.float32)
    with pytest.raises(DivergenceError, match="loss became"):
        pretrain(model, X, LossWeights(), OptimConfig(epochs=1), 0, progress=False)


def test_mechanism_summaries_are_finite_for_datasets_of_different_lengths():
    """Records pad spectra of different lengths with NaN; the summaries must skip the padding."""
    from dataclasses import replace

    cfg = replace(mechanisms.config_for("smoke"), datasets=("BasicMotions", "JapaneseVowels"),
                  snapshots=(0, 1), optim=OptimConfig(lr=1e-3, batch_size=64, epochs=1),
                  eval_size=8)
    ds = mechanisms.run(cfg, progress=False)
    assert np.isfinite(ds["spectrum_l1"].values).all()
    assert np.isfinite(ds["high_share"].values).all()
    assert (ds["spectrum_l1"].sel(source="data") == 0).all()
    np.testing.assert_allclose(np.nansum(ds["spectrum"].values, -1), 1.0, rtol=1e-6)
    assert list(ds["n_tokens"].values) == [13, 4]
    assert np.isfinite(ds["eff_rank_last"].values).all()
    # per-seed values for the seed-aware comparator
    assert ds["eff_rank_last"].dims == ("dataset", "seed", "method")
    assert ds["spectrum_l1"].dims == ("dataset", "seed", "source")


def test_ovr_probe_matches_scikit_learns_one_vs_rest():
    """``multiclass="ovr"`` is TimeMAE's probe: scikit-learn's one-vs-rest L2 logistic regression
    (C = 1) on standardised features; the multinomial default is a different classifier."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(1)
    centres = rng.normal(scale=1.2, size=(4, 6))
    y = rng.integers(0, 4, size=160)
    X = centres[y] + rng.normal(size=(160, 6))
    ref = make_pipeline(StandardScaler(), OneVsRestClassifier(LogisticRegression(C=1.0,
                                                                                 tol=1e-10,
                                                                                 max_iter=10_000)))
    ref.fit(X[:100], y[:100])
    ours = logistic_probe(X[:100], y[:100], X[100:], multiclass="ovr")
    assert (ours == ref.predict(X[100:])).mean() >= 0.98
    with pytest.raises(ValueError, match="unknown multiclass"):
        logistic_probe(X[:100], y[:100], X[100:], multiclass="softmax")


def test_chance_is_the_majority_class_rate_of_test():
    data = common.Prepared("toy", np.zeros((4, 1, 8)), np.array([0, 0, 0, 1]),
                           np.zeros((5, 1, 8)), np.array([1, 1, 1, 0, 2]), 3)
    assert data.chance == pytest.approx(60.0)  # TEST's majority class (1), not TRAIN's (0)
