"""WINNER model pieces: spectral centroid, noise scales, perturbation, pre-activation std."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from freqbook.models.siren import build_model
from freqbook.models.winner import (
    SCHEDULES,
    build_winner,
    image_centroid,
    noise_scales,
    perturb_,
    preactivation_std,
    spectral_centroid,
)
from freqbook.nn import CoordinateMLP


def test_centroid_of_a_pure_tone_is_its_frequency_over_nyquist():
    n, k = 4096, 512  # exactly k cycles: all energy in bin k, at k/n cycles per sample
    x = np.sin(2 * np.pi * k * np.arange(n) / n)
    psi = spectral_centroid(x[:, None])
    assert psi == pytest.approx(2 * k / n, rel=1e-6)  # normalised by Nyquist (0.5 cycles/sample)
    nyq = np.cos(np.pi * np.arange(n))  # alternating signal: all energy at Nyquist
    assert spectral_centroid(nyq[:, None]) == pytest.approx(1.0, rel=1e-6)


def test_centroid_channel_division_and_amplitude_weighting():
    n = 2048
    t = np.arange(n) / n
    a, b = np.sin(2 * np.pi * 100 * t), np.sin(2 * np.pi * 300 * t)
    # amplitude (not power) weighting: 3 a + b -> (3 * 100 + 1 * 300) / 4 = 150 cycles
    assert spectral_centroid((3 * a + b)[:, None]) == pytest.approx(2 * 150 / n, rel=1e-6)
    two = np.stack([a, b], axis=1)  # mean centroid 200 cycles, divided by C = 2
    assert spectral_centroid(two) == pytest.approx(2 * 200 / n / 2, rel=1e-6)
    assert spectral_centroid(two, divide_by_channels=False) == pytest.approx(2 * 200 / n, rel=1e-6)
    with pytest.raises(ValueError, match="silent"):
        spectral_centroid(np.zeros((16, 1)))
    with pytest.raises(ValueError, match="expects"):
        spectral_centroid(np.zeros(16))


def test_image_centroid_rows_vs_flattened():
    h, w = 32, 64
    cols = np.sin(2 * np.pi * 8 * np.arange(w) / w)
    img = np.tile(cols, (h, 1))  # every row the same tone of 8 cycles per row
    assert image_centroid(img, "rows") == pytest.approx(2 * 8 / w, rel=1e-6)
    # the flattened raster repeats the row: still 8 cycles per w samples
    assert image_centroid(img, "flat") == pytest.approx(2 * 8 / w, rel=1e-3)
    vertical = img.T + 2.0  # tone along the columns: each row is a constant (DC only)
    assert image_centroid(vertical, "rows") == pytest.approx(0.0, abs=1e-9)
    assert image_centroid(vertical, "flat") > 0.0
    with pytest.raises(ValueError, match="unknown centroid mode"):
        image_centroid(img, "diagonal")


def test_noise_scales_follow_the_schedules():
    s0, s1 = noise_scales(0.5732, 1, "audio")
    assert s0 == pytest.approx(3500 * (1 - math.exp(-7 * 0.5732)))
    assert s1 == pytest.approx(3 * 0.5732)
    assert noise_scales(0.5732, 1, "audio_paper")[0] == pytest.approx(
        3500 * (1 - math.exp(-5 * 0.5732)))
    s0, s1 = noise_scales(0.3, 3, "image")  # the code divides by C again
    assert (s0, s1) == pytest.approx((50 * (1 - math.exp(-5 * 0.1)), 0.4 * 0.1))
    assert SCHEDULES["image"].s0_max == 50.0
    with pytest.raises(ValueError, match="unknown schedule"):
        noise_scales(0.3, 1, "video")


def test_perturbation_touches_only_the_first_two_weight_matrices():
    torch.manual_seed(0)
    base = build_model("siren", 1, 1, hidden_features=256, hidden_layers=3, first_omega_0=30.0)
    torch.manual_seed(0)
    noisy = build_winner(1, 1, s0=300.0, s1=1.5, hidden_features=256, hidden_layers=3)
    b_state, n_state = base.state_dict(), noisy.state_dict()
    changed = {k for k in b_state if not torch.equal(b_state[k], n_state[k])}
    assert changed == {"layers.0.linear.weight", "layers.1.linear.weight"}
    # added noise has the specified std s / omega_0 (hidden omega_0 = 30 for both layers)
    d0 = (n_state["layers.0.linear.weight"] - b_state["layers.0.linear.weight"]).std().item()
    d1 = (n_state["layers.1.linear.weight"] - b_state["layers.1.linear.weight"]).std().item()
    assert d0 == pytest.approx(300.0 / 30.0, rel=0.2)  # 256 draws
    assert d1 == pytest.approx(1.5 / 30.0, rel=0.02)  # 65 536 draws
    # and the total std grows as sqrt(uniform variance + noise variance)
    uni = math.sqrt(6 / 256) / 30 / math.sqrt(3)
    total = n_state["layers.1.linear.weight"].std().item()
    assert total == pytest.approx(math.sqrt(uni**2 + (1.5 / 30) ** 2), rel=0.02)


def test_perturb_rejects_a_model_without_layers():
    with pytest.raises(ValueError, match="CoordinateMLP"):
        perturb_(torch.nn.Linear(2, 2), 1.0, 1.0)


@pytest.mark.parametrize("width,s", [(128, 0.0), (256, 0.5), (222, 1.72)])
def test_measured_layer2_std_matches_the_analytic_formula(width, s):
    torch.manual_seed(1)
    net = CoordinateMLP(1, 1, width, 1, first_omega_0=30.0, hidden_omega_0=30.0, bias_init="zero")
    perturb_(net, 0.0, s)
    x = torch.linspace(-1, 1, 4096).view(-1, 1)
    with torch.no_grad():
        std = float(net.hidden_activations(x)[1][0].std())
    assert std == pytest.approx(preactivation_std(width, s), rel=0.1)
    assert preactivation_std(width, s) == pytest.approx(math.sqrt(1 + width * s**2 / 2))


def test_code_biases_add_omega_squared_over_3d():
    torch.manual_seed(2)
    net = CoordinateMLP(1, 1, 256, 1, first_omega_0=30.0, hidden_omega_0=30.0)
    x = torch.linspace(-1, 1, 4096).view(-1, 1)
    with torch.no_grad():
        std = float(net.hidden_activations(x)[1][0].std())
    assert std == pytest.approx(preactivation_std(256, 0.0, bias=True), rel=0.1)
    assert std > 1.3  # clearly not the bias-free 1
