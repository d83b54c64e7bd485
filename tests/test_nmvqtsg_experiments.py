"""NM-VQTSG experiment plumbing: data re-split, schedule, checkpoint cache, paper profile."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from freqbook.experiments.nmvqtsg import cache
from freqbook.experiments.nmvqtsg.config import PROFILES, config_for
from freqbook.experiments.nmvqtsg.data import load_resplit
from freqbook.experiments.nmvqtsg.training import (
    build_prior,
    build_stage1,
    lr_at,
    svq_reconstruct,
)
from freqbook.models.fcn import FCN, PAPER_BLOCKS
from freqbook.models.mapper import MapperConfig, UNet1D


def test_profiles_and_seed_shift():
    assert config_for("cpu", seed=3).seeds == (3, 4, 5)
    cpu = PROFILES["cpu"]
    assert len(cpu.seeds) >= 3 and len(cpu.draws) >= 3
    assert cpu.taus == (0.1, 0.5, 1.0, 2.0, 4.0)
    assert PROFILES["paper"].stage1_steps == 20_000 and PROFILES["paper"].stage2_steps == 40_000


def test_resplit_is_stratified_80_20_and_standardised():
    d = load_resplit("GunPoint")
    assert d.X_train.shape == (160, 1, 150) and d.X_test.shape == (40, 1, 150)
    assert np.bincount(d.y_test).tolist() in ([20, 20], [19, 21], [21, 19])
    assert abs(float(d.X_train.mean())) < 1e-5 and float(d.X_train.std()) == pytest.approx(1, 1e-4)
    again = load_resplit("GunPoint")
    assert np.array_equal(d.X_test, again.X_test)
    with pytest.raises(ValueError, match="valid"):
        load_resplit("Coffee")


def test_warmup_cosine_schedule():
    total = 100
    lrs = [lr_at(s, total, 5e-3, 5e-4, 0.05) for s in range(total)]
    assert lrs[0] == pytest.approx(1e-3) and lrs[4] == pytest.approx(5e-3)
    assert lrs[-1] == pytest.approx(5e-4, rel=0.01)
    assert all(a >= b - 1e-12 for a, b in zip(lrs[4:-1], lrs[5:], strict=True))


def test_cache_key_depends_on_settings_and_writes_atomically(tmp_path, monkeypatch):
    monkeypatch.setenv("FREQBOOK_CHECKPOINTS", str(tmp_path))
    mods = ("freqbook.experiments.nmvqtsg.training",)
    k1 = cache.cache_key("generator", {"seed": 0}, mods)
    assert k1 == cache.cache_key("generator", {"seed": 0}, mods)
    assert k1 != cache.cache_key("generator", {"seed": 1}, mods)
    calls = []

    def build():
        calls.append(1)
        return {"w": torch.arange(3.0), "h": [1.0, 2.0], "tau": 0.5}

    first, hit1 = cache.cached("x", {"a": 1}, mods, build)
    second, hit2 = cache.cached("x", {"a": 1}, mods, build)
    assert (hit1, hit2) == (False, True) and len(calls) == 1
    assert torch.equal(second["w"], first["w"]) and second["tau"] == 0.5
    files = list((tmp_path / "nmvqtsg").iterdir())
    assert len(files) == 1 and files[0].suffix == ".pt"     # no temporary left behind


def test_paper_profile_builds_models_and_takes_one_step():
    """The paper's sizes (stage 1, priors, mapper, 6-block FCN) on a tiny ECG5000-length batch."""
    cfg = PROFILES["paper"]
    assert cfg.fcn_blocks == 6
    torch.manual_seed(0)
    data = type("D", (), {"n_channels": 1, "length": 140, "n_classes": 5})()
    x, y = torch.randn(8, 1, 140), torch.randint(0, 5, (8,))
    stage1 = build_stage1(data)
    opt = torch.optim.AdamW(stage1.parameters(), lr=cfg.lr)
    loss = stage1(x)["loss"]
    loss.backward()
    opt.step()
    stage1.eval()
    prior = build_prior(stage1, 5)
    s_l, s_h = stage1.tokens(x)
    assert s_l.shape == (8, 8) and s_h.shape == (8, 70)
    opt2 = torch.optim.AdamW(prior.parameters(), lr=cfg.lr)
    prior.loss(s_l, s_h, y)["loss"].backward()
    opt2.step()
    nm = UNet1D(MapperConfig())
    x_p = svq_reconstruct(stage1, x, 0.5)
    opt3 = torch.optim.AdamW(nm.parameters(), lr=cfg.lr)
    F.l1_loss(nm(x_p), x).backward()
    opt3.step()
    fcn = FCN(1, 5, PAPER_BLOCKS, 0.5)
    F.cross_entropy(fcn(x), y).backward()
    assert replace(cfg, seeds=(1,)).seeds == (1,)
