"""Why the noise helps: pre-activation statistics at initialisation (artefact F-psd of
``papers/winner.md``; record ``winner/why_noise``).

Three measurements, no training:

1. **Per layer**, for a 4-sine-layer SIREN (first ``omega_0 = 30``) with and without WINNER noise
   of given ``(s0, s1)`` (default: tetris's, ``s0 = 3436.7``, ``s1 = 1.720``) on ``n`` inputs
   ``linspace(-1, 1, n)``: histograms of the pre-activations and their power spectral density,
   the periodogram along the input axis averaged over neurons (``scipy.signal.periodogram``; the
   official notebook sums the activations over neurons first and uses ``fs = 2 pi n``).
2. **Layer-2 std against the analytic value** ``sqrt(1 + d s^2/2)`` (paper Sec. 3) over a grid of
   widths ``d`` and noise scales ``s`` on ``W_1`` (no noise on ``W_0``), with zero biases (the
   analysis' assumption) and with PyTorch's default biases (the code), for which the expected
   variance gains ``omega_0^2/(3 d)``.
3. **The broadening at the profile's widths**: ``sqrt(1 + d s1^2/2)`` for tetris's and camera's
   ``s1`` at the widths of this profile's audio and image tables and at the code's 222 / 256
   (``learn_audios.py:33``, ``learn_images.py:30``) - the deviation register quotes both.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import xarray as xr

from freqbook import profiles
from freqbook.experiments.winner import audio_table, image_table
from freqbook.experiments.winner.common import (
    AUDIO_NET,
    IMAGE_NET,
    audio_noise,
    image_noise,
    load_clip,
    load_image_target,
)
from freqbook.models.winner import perturb_, preactivation_std
from freqbook.nn import CoordinateMLP
from freqbook.results.record import run_and_record as _record


@dataclass(frozen=True)
class WhyNoiseConfig:
    """Settings (one instance per profile, :data:`PROFILES`).

    Attributes
    ----------
    width, n_inputs, hidden_layers
        Network of part 1 (4 sine layers: ``hidden_layers = 3``) and its number of inputs.
    s0, s1
        Noise scales of part 1 (tetris's by the code's schedule).
    widths, scales, n_grid
        Grid of part 2 and its number of inputs.
    bins
        Histogram bins.
    seeds
        Draws averaged in part 2; part 1 uses the first.
    audio_width, image_width
        Widths of the audio and image tables at this profile (part 3: the layer-2 broadening of
        tetris and camera at these widths against the code's 222 / 256).
    """

    width: int = 2048
    n_inputs: int = 16_384
    hidden_layers: int = 3
    s0: float = 3436.7
    s1: float = 1.720
    widths: tuple[int, ...] = (64, 128, 222, 256, 512, 1024, 2048)
    scales: tuple[float, ...] = (0.0, 0.25, 0.5, 1.0, 1.72, 3.0)
    n_grid: int = 16_384
    bins: int = 120
    seeds: tuple[int, ...] = (0, 1, 2)
    audio_width: int = AUDIO_NET.hidden_features
    image_width: int = IMAGE_NET.hidden_features


def _table_widths(profile: str) -> dict[str, int]:
    return {"audio_width": audio_table.PROFILES[profile].hidden_features,
            "image_width": image_table.PROFILES[profile].hidden_features}


PROFILES: dict[str, WhyNoiseConfig] = {
    "smoke": WhyNoiseConfig(width=256, n_inputs=2048, widths=(64, 256), scales=(0.0, 0.5, 1.72),
                            n_grid=2048, seeds=(0,), **_table_widths("smoke")),
    "cpu": WhyNoiseConfig(width=512, n_inputs=8192, widths=(64, 128, 222, 256, 512),
                          n_grid=4096, **_table_widths("cpu")),
    "paper": WhyNoiseConfig(**_table_widths("paper")),
}

#: part 3: the target whose ``s1`` sets the broadening of each modality
BROADENING_TARGETS = {"tetris": "audio", "camera": "image"}


def config_for(profile: str, seed: int = 0) -> WhyNoiseConfig:
    """The profile's config, seeds starting at ``seed`` (:func:`freqbook.profiles.config_for`)."""
    return profiles.config_for(PROFILES, profile, seed)


def _net(width: int, hidden_layers: int, bias: str) -> CoordinateMLP:
    return CoordinateMLP(1, 1, width, hidden_layers, first_omega_0=30.0, hidden_omega_0=30.0,
                         bias_init=bias)


def layer2_broadening(s1: float, widths: dict[str, int]) -> dict[str, float]:
    """``sqrt(1 + d s1^2 / 2)`` (paper Sec. 3, zero biases) for each named width ``d``.

    The factor by which WINNER's noise on ``W_1`` widens the layer-2 pre-activations; it grows
    with the width, so a narrower network than the code's gets less of the broadening the
    schedule was tuned for (e.g. ``{"profile": 96, "code": 222}``).
    """
    return {name: preactivation_std(d, s1) for name, d in widths.items()}


def broadening(cfg: WhyNoiseConfig) -> xr.Dataset:
    """Part 3: the layer-2 broadening of tetris (audio) and camera (image) at the profile's table
    widths and at the code's (222 / 256), ``s1`` from the code's schedule on the whole target.

    Returns
    -------
    xarray.Dataset
        ``broadening(target, width_of)``, ``broadening_width(target, width_of)`` with
        ``width_of`` in ``("profile", "code")``, ``broadening_s1(target)`` and
        ``broadening_ratio(target)`` = profile / code.
    """
    code = {"audio": AUDIO_NET.hidden_features, "image": IMAGE_NET.hidden_features}
    ours = {"audio": cfg.audio_width, "image": cfg.image_width}
    rows, widths, s1s = [], [], []
    for target, kind in BROADENING_TARGETS.items():
        if kind == "audio":
            s1 = audio_noise(load_clip(target)[1])[2]
        else:
            s1 = image_noise(load_image_target(target, None, gray=False))[2]
        b = layer2_broadening(s1, {"profile": ours[kind], "code": code[kind]})
        rows.append([b["profile"], b["code"]])
        widths.append([ours[kind], code[kind]])
        s1s.append(s1)
    rows_a = np.array(rows)
    dims = ("target", "width_of")
    return xr.Dataset(
        {"broadening": (dims, rows_a, {"formula": "sqrt(1 + d s1^2/2)"}),
         "broadening_width": (dims, np.array(widths)),
         "broadening_s1": (("target",), np.array(s1s)),
         "broadening_ratio": (("target",), rows_a[:, 0] / rows_a[:, 1])},
        coords={"target": list(BROADENING_TARGETS), "width_of": ["profile", "code"]})


@torch.no_grad()
def layer_statistics(cfg: WhyNoiseConfig, seed: int):
    """Part 1: ``(pre(noise, layer, neuron-sample), psd(noise, layer, freq), freqs)``."""
    from scipy.signal import periodogram

    x = torch.linspace(-1, 1, cfg.n_inputs).view(-1, 1)
    pres, psds = [], []
    for noisy in (False, True):
        torch.manual_seed(seed)
        net = _net(cfg.width, cfg.hidden_layers, "torch")
        if noisy:
            perturb_(net, cfg.s0, cfg.s1)
        acts = net.hidden_activations(x)
        pres.append([a[0].numpy() for a in acts])
        psds.append([periodogram(a[0].numpy(), fs=cfg.n_inputs / 2.0, axis=0)[1].mean(axis=1)
                     for a in acts])
    freqs = periodogram(np.zeros(cfg.n_inputs), fs=cfg.n_inputs / 2.0)[0]
    return pres, np.array(psds), freqs


@torch.no_grad()
def layer2_std(width: int, s: float, n: int, bias: str, seed: int) -> float:
    """Measured std of the layer-2 pre-activations with noise ``s`` on ``W_1`` only."""
    torch.manual_seed(seed)
    net = _net(width, 1, bias)
    perturb_(net, 0.0, s)
    x = torch.linspace(-1, 1, n).view(-1, 1)
    return float(net.hidden_activations(x)[1][0].double().std())


def run(cfg: WhyNoiseConfig, *, progress: bool | None = None) -> xr.Dataset:
    """Both parts; see the module docstring.

    Returns
    -------
    xarray.Dataset
        ``hist(noise, layer, bin)`` densities over ``edges``-centred ``bin`` per layer
        (``bin_centre(noise, layer, bin)``), ``pre_std(noise, layer)``, ``psd(noise, layer, freq)``
        (``freq`` in cycles per unit of ``t``); ``std_measured``, ``std_analytic``,
        ``rel_err`` = measured / analytic - 1 and ``abs_rel_err`` over ``(bias, width, s)``;
        plus part 3, :func:`broadening`.
    """
    pres, psd, freqs = layer_statistics(cfg, cfg.seeds[0])
    n_layers = len(pres[0])
    hist = np.zeros((2, n_layers, cfg.bins))
    centres = np.zeros_like(hist)
    stds = np.zeros((2, n_layers))
    for i in range(2):
        for k in range(n_layers):
            v = pres[i][k].ravel()
            stds[i, k] = float(v.std())
            lim = 4.0 * stds[i, k]
            h, edges = np.histogram(v, bins=cfg.bins, range=(-lim, lim), density=True)
            hist[i, k], centres[i, k] = h, 0.5 * (edges[1:] + edges[:-1])
    biases = ("zero", "torch")
    shape = (2, len(cfg.widths), len(cfg.scales))
    measured, analytic = np.zeros(shape), np.zeros(shape)
    for b, bias in enumerate(biases):
        for w, width in enumerate(cfg.widths):
            for j, s in enumerate(cfg.scales):
                measured[b, w, j] = np.mean([layer2_std(width, s, cfg.n_grid, bias, sd)
                                             for sd in cfg.seeds])
                analytic[b, w, j] = preactivation_std(width, s, 30.0, bias=bias == "torch")
    rel = measured / analytic - 1.0
    bws = ("bias", "width", "s")
    parts = xr.Dataset(
        {
            "hist": (("noise", "layer", "bin"), hist),
            "bin_centre": (("noise", "layer", "bin"), centres),
            "pre_std": (("noise", "layer"), stds),
            "psd": (("noise", "layer", "freq"), psd),
            "std_measured": (bws, measured),
            "std_analytic": (bws, analytic, {"formula": "sqrt(1 + d s^2/2) [+ 30^2/(3d)]"}),
            "rel_err": (bws, rel),
            "abs_rel_err": (bws, np.abs(rel)),
        },
        coords={"noise": ["none", "winner"], "layer": np.arange(1, n_layers + 1),
                "bin": np.arange(cfg.bins), "freq": freqs, "bias": list(biases),
                "width": list(cfg.widths), "s": list(cfg.scales)},
    )
    return xr.merge([parts, broadening(cfg)])


def run_and_record(cfg: WhyNoiseConfig, profile: str):
    """:func:`run` and save the record ``winner/why_noise``; returns ``(ds, path)``."""
    return _record(run, cfg, paper="winner",
                   experiment="why_noise", profile=profile)


def plot_layers(ds: xr.Dataset):
    """Histograms (top) and PSDs (bottom) of each layer's pre-activations, without/with noise."""
    import matplotlib.pyplot as plt

    layers = ds["layer"].values
    fig, axes = plt.subplots(2, len(layers), figsize=(2.6 * len(layers), 5.0), squeeze=False)
    colours = {"none": "#d62728", "winner": "#2ca02c"}
    names = {"none": "SIREN (ω0 = 30)", "winner": "+ WINNER noise"}
    for k, layer in enumerate(layers):
        for noise in ds["noise"].values:
            sel = {"noise": noise, "layer": layer}
            axes[0, k].plot(ds["bin_centre"].sel(sel), ds["hist"].sel(sel), color=colours[noise],
                            label=f"{names[noise]}, std {float(ds['pre_std'].sel(sel)):.3g}")
            axes[1, k].loglog(ds["freq"].values[1:], ds["psd"].sel(sel).values[1:],
                              color=colours[noise], lw=0.8)
        axes[0, k].set_title(f"layer {layer} pre-activation", fontsize=9)
        axes[0, k].legend(fontsize=6)
        axes[1, k].set_xlabel("frequency (cycles per unit t)")
    axes[1, 0].set_ylabel("PSD (mean over neurons)")
    axes[0, 0].set_ylabel("density")
    fig.tight_layout()
    return fig


def plot_std(ds: xr.Dataset):
    """Measured layer-2 std (markers) against the analytic value (lines), per width."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9.0, 3.4), sharey=True)
    for ax, bias in zip(axes, ds["bias"].values, strict=True):
        for width in ds["width"].values:
            sel = {"bias": bias, "width": width}
            line = ax.plot(ds["s"], ds["std_analytic"].sel(sel), lw=1)[0]
            ax.plot(ds["s"], ds["std_measured"].sel(sel), "o", color=line.get_color(),
                    ms=4, label=f"d = {width}")
        extra = "" if bias == "zero" else " + 30²/(3d)"
        ax.set_title(f"biases: {bias}; line: sqrt(1 + d s²/2{extra})", fontsize=9)
        ax.set_xlabel("noise scale s on W_1")
        ax.set_yscale("log")
    axes[0].set_ylabel("std of layer-2 pre-activation")
    axes[1].legend(fontsize=7)
    fig.tight_layout()
    return fig
