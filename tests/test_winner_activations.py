"""FINER, WIRE and Gauss layers: shapes, initialisation, forward formulas, gradients."""

from __future__ import annotations

import math

import pytest
import torch

from freqbook.models.siren import build_model
from freqbook.nn.activations import ComplexLinear, FinerLayer, GaussLayer, WireLayer
from freqbook.nn.mlp import CoordinateMLP


def test_finer_init_and_forward():
    torch.manual_seed(0)
    first = FinerLayer(2, 64, 30.0, is_first=True)
    hidden = FinerLayer(64, 64, 30.0)
    assert first.linear.weight.abs().max() <= 1 / 2
    assert hidden.linear.weight.abs().max() <= math.sqrt(6 / 64) / 30
    plus = FinerLayer(2, 64, 30.0, is_first=True, first_bias_scale=5.0)
    assert plus.linear.bias.abs().max() > 1.0  # FINER++: U(-5, 5), not U(+-1/sqrt(2))
    x = torch.rand(7, 2) * 2 - 1
    z = first.linear(x)
    torch.testing.assert_close(first(x), torch.sin(30 * (z.abs() + 1) * z))


def test_finer_scale_is_not_backpropagated():
    layer = FinerLayer(1, 1, 1.0, is_first=True)
    with torch.no_grad():
        layer.linear.weight.fill_(1.0)
        layer.linear.bias.fill_(0.0)
    x = torch.tensor([[0.5]])
    layer(x).sum().backward()
    # d/dw sin((|z|+1) z) with the scale constant: cos(1.5 * 0.5) * 1.5 * x
    expected = math.cos(0.75) * 1.5 * 0.5
    assert layer.linear.weight.grad.item() == pytest.approx(expected, rel=1e-5)


def test_gauss_layer():
    torch.manual_seed(0)
    layer = GaussLayer(3, 8, scale=30.0)
    x = torch.rand(5, 3)
    out = layer(x)
    assert out.shape == (5, 8) and (out >= 0).all() and (out <= 1).all()
    torch.testing.assert_close(out, torch.exp(-(30 * layer.linear(x)) ** 2))
    assert layer.linear.weight.abs().max() <= 1 / math.sqrt(3)  # PyTorch default init


def test_wire_layers_are_complex_gabor_wavelets_with_real_parameters():
    torch.manual_seed(0)
    first = WireLayer(1, 16, 10.0, 10.0, is_first=True)
    hidden = WireLayer(16, 16, 10.0, 10.0)
    assert isinstance(hidden.linear, ComplexLinear)
    assert all(not p.is_complex() for p in hidden.parameters())
    bound = 1 / math.sqrt(16)
    assert hidden.linear.weight_re.abs().max() <= bound
    assert hidden.linear.weight_im.abs().max() <= bound
    x = torch.linspace(-1, 1, 9).view(-1, 1)
    h = first(x)
    assert h.is_complex() and h.shape == (9, 16)
    z = first.linear(x)
    torch.testing.assert_close(h, torch.exp(1j * 10 * z - (10 * z).abs() ** 2))
    z2 = hidden.linear(h)
    torch.testing.assert_close(hidden(h), torch.exp(1j * 10 * z2 - (10 * z2).abs() ** 2))


@pytest.mark.parametrize("name", ["finer", "wire", "gauss"])
def test_networks_build_output_real_and_train(name):
    torch.manual_seed(0)
    omega = 10.0 if name == "wire" else 30.0
    net = build_model(name, 2, 3, hidden_features=32, hidden_layers=2, first_omega_0=omega,
                      hidden_omega_0=omega)
    assert isinstance(net, CoordinateMLP) and len(net.layers) == 3
    x = torch.rand(20, 2) * 2 - 1
    y = torch.rand(20, 3)
    out = net(x)
    assert out.shape == (20, 3) and not out.is_complex()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    before = float(torch.mean((net(x) - y) ** 2).detach())
    for _ in range(20):
        opt.zero_grad()
        loss = torch.mean((net(x) - y) ** 2)
        loss.backward()
        opt.step()
    assert float(loss.detach()) < before
    pre = net.hidden_activations(x)
    assert len(pre) == 3


def test_finer_head_uses_the_siren_hidden_init():
    torch.manual_seed(0)
    net = build_model("finer", 1, 1, hidden_features=64, hidden_layers=1)
    assert net.head.weight.abs().max() <= math.sqrt(6 / 64) / 30


def test_unknown_activation_and_model_names():
    with pytest.raises(ValueError, match="unknown activation"):
        CoordinateMLP(1, 1, activation="swish")
    with pytest.raises(ValueError, match="unknown model"):
        build_model("siren3", 1, 1)
