"""SIREN image-fitting models, their encodings, and the image_fit experiment's helpers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from freqbook.data.grids import mgrid
from freqbook.experiments.siren import image_fit
from freqbook.models.siren import MODEL_LABELS, MODEL_NAMES, build_model
from freqbook.nn import PositionalEncoding, RBFLayer, nyquist_frequencies
from freqbook.profiles import PROFILES as PROFILE_NAMES


def _mlp_params(width_in: int, width: int = 256, hidden_layers: int = 3, out: int = 1) -> int:
    """Linear layers in -> width, hidden_layers x (width -> width), width -> out, with biases."""
    return (width_in + 1) * width + hidden_layers * (width + 1) * width + (width + 1) * out


# Paper shape (5 linear layers, width 256), 2-D input, 256 px per axis -> P.E. L = 6.
EXPECTED_PARAMS = {
    "siren": _mlp_params(2),
    "relu": _mlp_params(2),
    "tanh": _mlp_params(2),
    "relu_pe": _mlp_params(2 * (1 + 2 * 6)),
    "rbf_relu": 1024 * 2 + 1024 + _mlp_params(1024),  # centres + sigmas + MLP on 1024 features
}


def test_siren_paper_shape_parameter_count():
    # siren.md §5.1: the official image network (256 x 4 sine layers + head) has 198 401.
    assert EXPECTED_PARAMS["siren"] == 198_401


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_build_model_maps_coordinates_to_values(name):
    torch.manual_seed(0)
    model = build_model(name, 2, 1, samples_per_axis=256)
    n_params = sum(p.numel() for p in model.parameters())
    assert n_params == EXPECTED_PARAMS[name]
    x = torch.rand(37, 2) * 2 - 1
    y = model(x)
    assert y.shape == (37, 1)
    assert torch.isfinite(y).all()
    # Not a constant function of the input.
    assert y.std() > 0
    assert name in MODEL_LABELS


def test_build_model_passes_shape_and_omega():
    model = build_model("siren", 3, 2, hidden_features=32, hidden_layers=1,
                        first_omega_0=3000.0, hidden_omega_0=20.0)
    assert model(torch.zeros(4, 3)).shape == (4, 2)
    assert [layer.omega_0 for layer in model.layers] == [3000.0, 20.0]
    assert len(model.layers) == 2  # in -> 32, plus 1 hidden
    # pe_frequencies overrides the Nyquist rule.
    pe = build_model("relu_pe", 2, 1, hidden_features=8, pe_frequencies=3)
    assert pe.encoding.num_frequencies == 3


def test_build_model_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match="unknown model") as err:
        build_model("siren2", 2, 1)
    msg = str(err.value)
    assert "\n" not in msg
    for name in MODEL_NAMES:
        assert name in msg


@pytest.mark.parametrize(("samples", "octaves"), [(512, 7), (256, 6), (128, 5), (64, 4),
                                                  (100, 4), (44_100, 13)])
def test_nyquist_rule(samples, octaves):
    # L = floor(log2(samples / 4)): 7 for 512 px, 6 for 256 px (siren.md §2.3).
    assert nyquist_frequencies(samples) == octaves
    assert octaves == math.floor(math.log2(samples / 4))


@pytest.mark.parametrize(("in_features", "samples"), [(1, 64), (2, 256), (3, 512)])
def test_positional_encoding_layout(in_features, samples):
    octaves = nyquist_frequencies(samples)
    enc = PositionalEncoding(in_features, octaves)
    x = torch.rand(50, in_features, dtype=torch.float64) * 2 - 1
    out = enc(x.float()).double()
    width = in_features * (1 + 2 * octaves)
    assert enc.out_features == width
    assert out.shape == (50, width)
    # The raw coordinates come first.
    torch.testing.assert_close(out[:, :in_features], x, rtol=0, atol=1e-7)
    # Every sin/cos(2^i pi x_j) appears exactly once among the remaining columns (order-free).
    # Guards a missing pi, frequencies 2^(i+1) or i instead of 2^i, and sin/cos mix-ups.
    rest = out[:, in_features:]
    expected = []
    for j in range(in_features):
        for i in range(octaves):
            arg = (2.0**i) * math.pi * x[:, j]
            expected += [torch.sin(arg), torch.cos(arg)]
    assert len(expected) == rest.shape[1]
    used = set()
    for col in expected:
        err = (rest - col[:, None]).abs().max(dim=0).values
        k = int(err.argmin())
        assert err[k] < 1e-4, "a P.E. feature is missing"
        used.add(k)
    assert len(used) == rest.shape[1]


def test_rbf_features_match_direct_formula():
    # The official feature exp(-(sigma ||x - c||^2)^2) (siren.md §2.3) with one centre per
    # output, computed without the GEMM expansion the layer uses. Guards sigma vs sigma^2,
    # ||.|| vs ||.||^2, sign errors.
    torch.manual_seed(0)
    layer = RBFLayer(2, 64, sigma_init=10.0)
    with torch.no_grad():
        layer.sigmas.uniform_(0.1, 0.5)  # varied widths; (0.5 * 8)^2 = 16 keeps exp() > 0
    x = torch.rand(300, 2) * 2 - 1
    feats = layer(x).detach()
    assert feats.shape == (300, 64)
    c = layer.centres.detach().double()
    s = layer.sigmas.detach().double()
    dist = torch.cdist(x.double(), c)  # (300, 64)
    direct = torch.exp(-((s * dist**2) ** 2))
    # float32 GEMM expansion of ||x - c||^2: cancellation error ~1e-6 * sigma^2 in the exponent.
    torch.testing.assert_close(feats.double(), direct, rtol=1e-4, atol=1e-5)
    assert feats.min() >= 0.0 and feats.max() <= 1.0
    assert (feats > 0).all()  # sigma <= 0.5 and ||x - c||^2 <= 8: nothing underflows


def test_rbf_default_init_and_range():
    torch.manual_seed(1)
    layer = RBFLayer(2)  # official: 1024 centres ~ U(-1, 1), sigma = 10
    assert layer.centres.shape == (1024, 2)
    assert layer.out_features == 1024
    assert layer.centres.abs().max() <= 1.0
    torch.testing.assert_close(layer.sigmas.detach(), torch.full((1024,), 10.0))
    # Feature of a point at a centre is 1, features lie in [0, 1] (far centres underflow to
    # exactly 0 in float32 with sigma = 10: exp(-800)), and every point sees some centre.
    x = torch.cat([layer.centres[:5].detach(), torch.rand(200, 2) * 2 - 1])
    feats = layer(x).detach()
    assert feats.min() >= 0.0 and feats.max() <= 1.0
    torch.testing.assert_close(feats[torch.arange(5), torch.arange(5)], torch.ones(5),
                               rtol=0, atol=1e-4)
    assert (feats.max(dim=1).values > 0).all()


def test_rbf_layer_is_trainable():
    layer = RBFLayer(2, 16, sigma_init=2.0)
    out = layer(torch.rand(10, 2) * 2 - 1).sum()
    gc, gs = torch.autograd.grad(out, [layer.centres, layer.sigmas])
    assert gc.abs().sum() > 0 and gs.abs().sum() > 0


def test_target_derivatives_of_quadratic_image():
    # Image on the [-1, 1]^2 grid (ij order: axis 0 = first coordinate, as mgrid):
    # f = a u^2 + b v^2 + c u v + d u. Laplacian 2a + 2b everywhere; central differences and the
    # 5-point stencil are exact for quadratics in the interior. Guards the pixel spacing
    # h = 2/(n-1) (2/n would be off by (n-1)^2/n^2 = 6 % at n = 33) and the gradient norm.
    n = 33
    a, b, c, d = 1.5, -0.25, 0.7, 0.3
    grid = mgrid(n, n).double().numpy().reshape(n, n, 2)
    u, v = grid[..., 0], grid[..., 1]
    image = a * u**2 + b * v**2 + c * u * v + d * u
    grad_norm, lap = image_fit.target_derivatives(image)
    assert grad_norm.shape == lap.shape == (n, n)
    inner = (slice(1, -1), slice(1, -1))
    np.testing.assert_allclose(lap[inner], 2 * a + 2 * b, rtol=1e-9, atol=1e-9)
    expected_norm = np.hypot(2 * a * u + c * v + d, 2 * b * v + c * u)
    np.testing.assert_allclose(grad_norm[inner], expected_norm[inner], rtol=1e-9, atol=1e-9)


def test_config_for_unknown_profile_one_line_error():
    with pytest.raises(ValueError) as err:
        image_fit.config_for("gpu")
    msg = str(err.value)
    assert "\n" not in msg
    assert "gpu" in msg
    for name in ("smoke", "cpu", "paper"):
        assert name in msg


def test_config_for_shifts_seeds():
    assert set(image_fit.PROFILES) == set(PROFILE_NAMES)
    cfg = image_fit.config_for("cpu", seed=10)
    assert cfg.seeds == (10, 11, 12)
    assert cfg.size == image_fit.PROFILES["cpu"].size
    assert image_fit.config_for("smoke").seeds == (0,)
    paper = image_fit.config_for("paper")
    # Paper settings (siren.md §2.4): 512 px, width 256, 3 hidden layers, 10 000 steps, lr 1e-4.
    assert (paper.size, paper.hidden_features, paper.hidden_layers, paper.steps, paper.lr) == (
        512, 256, 3, 10_000, 1e-4)
    assert paper.models == MODEL_NAMES


def test_image_fit_config_rejects_unknown_model():
    with pytest.raises(ValueError, match="bogus") as err:
        image_fit.ImageFitConfig(size=8, models=("bogus",))
    for name in MODEL_NAMES:
        assert name in str(err.value)
    # Known subsets are fine.
    assert image_fit.ImageFitConfig(size=8, models=("siren", "relu")).models == ("siren", "relu")
