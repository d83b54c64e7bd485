"""MADS experiments: profiles, the PyPOTS adapter, the paper profile's models on tiny data."""

from __future__ import annotations

import builtins
import os
from dataclasses import replace

import numpy as np
import pytest
import torch

from freqbook.experiments.mads import common, investigate, method, pypots_adapter, real, synthetic
from freqbook.models.mads import MADS, TrainConfig, train_mads

needs_mirror = pytest.mark.skipif(
    not os.environ.get("FREQBOOK_DATA"),
    reason="FREQBOOK_DATA is not set (CI points it at ../shared/data)",
)


@pytest.mark.parametrize("module", [method, real, synthetic, investigate])
def test_profiles_and_seed_shift(module):
    for profile in ("smoke", "cpu", "paper"):
        cfg = module.config_for(profile, seed=4)
        assert cfg.seeds[0] == 4
    assert len(module.config_for("cpu").seeds) >= (3 if module is not method else 1)


def test_paper_profile_models_take_one_step_on_tiny_data():
    """Paper-scale MADS (code 128, SIREN 128 x 3, hypernetwork 256) builds and trains one step."""
    for module in (real, synthetic, method, investigate):
        cfg = module.config_for("paper")
        model = MADS(3, 4, cfg.model)
        assert model.cfg.latent_dim == 128 and model.cfg.width == 128
        t = np.linspace(-1, 1, 6)[None].repeat(3, 0)
        x = np.random.default_rng(0).normal(size=(3, 6, 4))
        hist = train_mads(model, t, x, np.ones_like(x, bool), replace(cfg.train, steps=1))
        assert len(hist.loss) == 1 and np.isfinite(hist.loss[0])


@pytest.mark.skipif(not pypots_adapter.available(), reason="PyPOTS not installed")
@pytest.mark.parametrize("name", pypots_adapter.DEEP)
def test_pypots_adapter_imputes_and_keeps_shapes(name):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 8, 3))
    x[rng.random(x.shape) < 0.3] = np.nan
    cfg = pypots_adapter.DeepConfig(d_model=8, n_layers=1, n_heads=2, d_ffn=8, rnn_hidden=4,
                                    epochs=1, batch=8)
    out = pypots_adapter.fit_impute(name, x, x[:4], cfg, seed=0)
    assert out.shape == (4, 8, 3) and np.isfinite(out).all()
    paper = pypots_adapter.build(name, 8, 3, real.config_for("paper").deep)
    assert sum(p.numel() for p in paper.model.parameters()) > 0


def test_adapter_says_what_to_install_when_pypots_is_missing(monkeypatch):
    real_import = builtins.__import__

    def fake(name, *args, **kwargs):
        if name.startswith("pypots"):
            raise ImportError("no pypots")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake)
    assert not pypots_adapter.available()
    with pytest.raises(pypots_adapter.PyPOTSMissing, match=r"pip install") as err:
        pypots_adapter.build("saits", 8, 3, pypots_adapter.DeepConfig())
    assert "\n" not in str(err.value)


def test_evaluation_entries_never_reach_mads():
    """Same task, different values at the removed entries -> identical MADS imputations."""
    task = common.synthetic_task("lowf-lowd", 16, 4, 0.5, seed=0)
    preds = []
    for fill in (0.0, 50.0):
        te = task.test
        values = np.where(te.removed, fill, te.values)
        test = replace(te, values=values)
        t = common.Task(task.name, task.train, test)
        res = common.run_mads(t, common.SMOKE_MODEL, TrainConfig(steps=3, batch=8, infer_steps=3),
                              seed=0)
        preds.append(res.pred)
    assert np.array_equal(preds[0], preds[1])
    # ... while the metrics, computed on those entries, do change
    assert not np.allclose(preds[0][task.test.removed], 50.0)


def test_ranks_and_best_baseline():
    err = np.array([[1.0, 3.0], [2.0, 1.0], [2.0, 2.0]])
    r = common.ranks(err, axis=0)
    assert np.allclose(r[:, 0], [1, 2.5, 2.5]) and np.allclose(r[:, 1], [3, 1, 2])
    assert np.allclose(common.best_baseline(err, ["mads", "mean", "lerp"]), [2.0, 1.0])


def test_synthetic_smoke_record_has_seed_dim_and_ranks():
    cfg = replace(synthetic.config_for("smoke"), methods=("mads", "mean", "lerp"), n_train=16,
                  n_test=4)
    ds = synthetic.run(cfg, progress=False)
    assert ds["avg_rank"].dims == ("method", "seed")
    assert np.allclose(ds["rank"].sum("method"), 6.0)  # ranks 1..3 per configuration
    assert ds.sizes["config"] == 2


@needs_mirror
def test_real_smoke_record():
    cfg = replace(real.config_for("smoke"), methods=("mads", "mean", "lerp"))
    torch.manual_seed(0)
    ds = real.run(cfg, progress=False)
    assert set(ds["dataset"].values) == {"human_activity", "italy"}
    assert ds["gain_pct"].dims == ("dataset", "metric", "seed")
    best = ds["error"].drop_sel({"method": "mads"}).min("method")
    mads = ds["error"].sel({"method": "mads"})
    assert np.allclose(ds["gain_pct"], 100 * (best - mads) / best)
    assert "ex_pred" in ds and real.table(ds).shape[0] == 6
