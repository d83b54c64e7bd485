"""The shared training loop: progress-free runs, metrics history, divergence guard, seeding."""

from __future__ import annotations

import pytest
import torch

from freqbook.train import DivergenceError, default_device, fit, make_adam, seed_everything


def test_fit_records_loss_and_metrics_per_step_and_reduces_the_loss():
    seed_everything(0)
    w = torch.nn.Parameter(torch.zeros(3))
    target = torch.tensor([1.0, -2.0, 0.5])

    def step():
        loss = ((w - target) ** 2).sum()
        return loss, {"w0": float(w[0].detach())}

    hist = fit([w], step, steps=200, lr=0.05, progress=False)
    assert len(hist.loss) == 200 and len(hist.metrics["w0"]) == 200
    assert hist.metrics["w0"][0] == 0.0  # metrics are measured before the step's update
    assert hist.loss[-1] < 1e-2 * hist.loss[0]
    assert hist.wall_s > 0


def test_a_diverging_loss_stops_with_a_one_line_error_naming_the_step():
    w = torch.nn.Parameter(torch.ones(1))
    calls = {"n": 0}

    def step():
        calls["n"] += 1
        bad = float("nan") if calls["n"] == 4 else 1.0
        return (w * bad).sum(), {}

    with pytest.raises(DivergenceError) as err:
        fit([w], step, steps=10, lr=0.1, desc="demo", progress=False)
    msg = str(err.value)
    assert "demo" in msg and "step 3" in msg and "nan" in msg and "\n" not in msg


def test_seed_everything_makes_initialisation_repeatable():
    seed_everything(7)
    a = torch.nn.Linear(4, 4).weight.detach().clone()
    seed_everything(7)
    b = torch.nn.Linear(4, 4).weight.detach().clone()
    torch.testing.assert_close(a, b)


def test_device_override_and_optimiser(monkeypatch):
    monkeypatch.setenv("FREQBOOK_DEVICE", "cpu")
    assert default_device() == torch.device("cpu")
    opt = make_adam([torch.nn.Parameter(torch.zeros(2))], lr=1e-3)
    assert isinstance(opt, torch.optim.Adam) and opt.defaults["lr"] == 1e-3
