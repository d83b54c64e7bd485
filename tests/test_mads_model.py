"""MADS model: hypernetwork shapes, one SIREN per series, masked loss, auto-decoding inference."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from freqbook.models.mads import (
    MADS,
    MADSConfig,
    TrainConfig,
    infer_latents,
    mads_loss,
    masked_mse_per_series,
    modulated_siren,
    modulator_name,
    train_mads,
)

TINY = MADSConfig(latent_dim=8, width=8, sine_layers=3, hyper_hidden=16)


def _data(n=6, t=10, d=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    times = torch.linspace(-1, 1, t).expand(n, t).clone()
    x = torch.sin(3 * times[..., None] + torch.rand(n, 1, d, generator=g) * 6)
    mask = torch.rand(n, t, d, generator=g) > 0.3
    return times, x, mask


def test_hypernetwork_generates_every_siren_tensor_per_series():
    model = MADS(5, 3, TINY)
    params = model.hyper(model.latents)
    assert params["layers.0.linear.weight"].shape == (5, 8, 1)
    assert params["layers.1.linear.weight"].shape == (5, 8, 8)
    assert params["layers.2.linear.weight"].shape == (5, 8, 8)
    assert "layers.3.linear.weight" not in params  # 3 sine layers in all
    assert params["head.weight"].shape == (5, 3, 8) and params["head.bias"].shape == (5, 3)
    pred, _ = model(model.latents, torch.zeros(5, 7))
    assert pred.shape == (5, 7, 3)


def test_each_series_gets_its_own_siren():
    """Batched evaluation equals evaluating each series alone with its own weights, and two
    codes give different networks."""
    torch.manual_seed(0)
    model = MADS(4, 2, TINY)
    t = torch.rand(4, 9) * 2 - 1
    with torch.no_grad():
        batched, params = model(model.latents, t)
        assert not torch.allclose(params["layers.1.linear.weight"][0],
                                  params["layers.1.linear.weight"][1])
        for i in range(4):
            alone, _ = model(model.latents[i:i + 1], t[i:i + 1])
            torch.testing.assert_close(batched[i], alone[0], rtol=1e-5, atol=1e-6)
            # reference: the SIREN of series i written out with plain matmuls
            h = t[i][:, None]
            alphas = model.modulator(model.latents[i:i + 1])
            for layer in range(3):
                w = params[f"layers.{layer}.linear.weight"][i]
                b = params[f"layers.{layer}.linear.bias"][i]
                h = torch.sin(30.0 * (h @ w.T + b)) * alphas[layer][0]
            ref = h @ params["head.weight"][i].T + params["head.bias"][i]
            torch.testing.assert_close(batched[i], ref, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name,expected", [("base", "per_series"), ("fixed", "shared"),
                                           ("none", "none")])
def test_modulator_variants(name, expected):
    assert modulator_name(name) == expected
    model = MADS(3, 2, MADSConfig(latent_dim=8, width=8, hyper_hidden=16, modulator=name))
    assert (model.modulator is None) == (expected == "none")
    assert (model.shared_code is not None) == (expected == "shared")
    if expected == "shared":  # the amplitudes do not depend on the series
        code = model.shared_code.expand(2, -1)
        a = model.modulator(code)
        assert torch.equal(a[0][0], a[0][1])
    with pytest.raises(ValueError, match="unknown modulator"):
        modulator_name("bogus")


def test_modulated_siren_without_modulation_matches_alpha_one():
    model = MADS(2, 2, TINY)
    params = model.hyper(model.latents)
    t = torch.rand(2, 5)
    ones = [torch.ones(2, 8) for _ in range(3)]
    torch.testing.assert_close(modulated_siren(params, t, None, 30.0),
                               modulated_siren(params, t, ones, 30.0))


def test_loss_terms_follow_the_formula():
    pred = torch.tensor([[[1.0], [2.0]], [[0.0], [0.0]]])
    x = torch.tensor([[[0.0], [0.0]], [[1.0], [float("nan")]]])
    m = torch.tensor([[[True], [True]], [[True], [False]]])
    per = masked_mse_per_series(pred, x, m)
    torch.testing.assert_close(per, torch.tensor([2.5, 1.0]))
    z = torch.tensor([[1.0, 3.0]])
    params = {"a": torch.tensor([[2.0, 0.0]])}
    loss, terms = mads_loss(pred, x, m, z, params, lambda_z=0.5, lambda_w=2.0)
    assert math.isclose(terms["mse"], 1.75) and math.isclose(terms["latent"], 5.0)
    assert math.isclose(float(loss), 1.75 + 0.5 * 5.0 + 2.0 * 2.0)


def test_unobserved_values_never_reach_the_loss_or_its_gradient():
    """Mask-leak test: changing (even to NaN/huge) the values at masked-out entries must leave
    the loss and every gradient unchanged."""
    times, x, m = _data()
    torch.manual_seed(1)
    model = MADS(6, 3, TINY)
    grads = []
    for fill in (0.0, float("nan"), 1e6):
        model.zero_grad()
        xx = torch.where(m, x, torch.full_like(x, fill))
        pred, params = model(model.latents, times)
        loss, _ = mads_loss(pred, xx, m, model.latents, params, lambda_z=1e-4, lambda_w=1.0)
        loss.backward()
        grads.append((float(loss.detach()), [p.grad.clone() for p in model.parameters()]))
    for loss, g in grads[1:]:
        assert loss == grads[0][0]
        for a, b in zip(g, grads[0][1], strict=True):
            assert torch.equal(a, b)


def test_training_is_blind_to_evaluation_entries():
    """Two trainings whose data differ only at unobserved entries give identical models."""
    times, x, m = _data(seed=3)
    outs = []
    for fill in (0.0, 123.0):
        torch.manual_seed(0)
        model = MADS(6, 3, TINY)
        xx = np.where(m.numpy(), x.numpy(), fill)
        train_mads(model, times.numpy(), xx, m.numpy(), TrainConfig(steps=5, batch=4), seed=0)
        outs.append(torch.cat([p.detach().flatten() for p in model.parameters()]))
    assert torch.equal(outs[0], outs[1])


def test_training_reduces_the_masked_loss():
    times, x, m = _data(n=8, seed=4)
    torch.manual_seed(0)
    model = MADS(8, 3, TINY)
    hist = train_mads(model, times, x, m, TrainConfig(steps=60, batch=8, lr=3e-3))
    assert np.mean(hist.metrics["mse"][-5:]) < 0.7 * np.mean(hist.metrics["mse"][:5])


def test_inference_updates_latents_only():
    times, x, m = _data(n=4, seed=5)
    torch.manual_seed(0)
    model = MADS(3, 3, MADSConfig(latent_dim=8, width=8, hyper_hidden=16, modulator="shared"))
    before = {k: v.detach().clone() for k, v in model.state_dict().items()}
    z, hist = infer_latents(model, times, x, m, TrainConfig(infer_steps=25, infer_lr=1e-2))
    after = model.state_dict()
    for k, v in before.items():
        assert torch.equal(v, after[k]), f"{k} changed during inference"
    assert all(p.requires_grad for p in model.parameters())  # restored
    assert z.shape == (4, 8) and z.abs().sum() > 0  # fresh codes moved away from 0
    assert hist.metrics["mse"][-1] < hist.metrics["mse"][0]


def test_siren_hidden_init_option_changes_only_hidden_weight_heads():
    torch.manual_seed(0)
    a = MADS(2, 2, TINY)
    torch.manual_seed(0)
    b = MADS(2, 2, MADSConfig(latent_dim=8, width=8, hyper_hidden=16, hidden_init="siren"))
    key = b.hyper._key("layers.1.linear.weight")
    bound = math.sqrt(6 / 8) / 30
    assert b.hyper.nets[key][-1].bias.abs().max() <= bound
    k0 = a.hyper._key("layers.0.linear.weight")
    assert torch.equal(a.hyper.nets[k0][-1].bias, b.hyper.nets[k0][-1].bias)


def test_bad_shapes_raise_one_line():
    model = MADS(2, 3, TINY)
    with pytest.raises(ValueError, match="expected 3 features"):
        train_mads(model, np.zeros((2, 5)), np.zeros((2, 5, 2)), np.ones((2, 5, 2), bool),
                   TrainConfig(steps=1))
    with pytest.raises(ValueError, match="expected times"):
        train_mads(model, np.zeros((2, 4)), np.zeros((2, 5, 3)), np.ones((2, 5, 3), bool),
                   TrainConfig(steps=1))
