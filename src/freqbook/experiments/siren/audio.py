"""SIREN audio fitting (paper Sec. 4.1, artefact F-audio of ``papers/siren.md``).

A coordinate network maps a time ``t`` to the waveform value and is trained full-batch with Adam
(lr 1e-4) on the MSE; the paper (official ``train_audio.py``) runs 9 001 steps on the whole of
``bach`` (7 s) and ``counting`` (12 s), mono and divided by their peak (``load_wav``). Models,
five linear layers each (width 256 in the paper):

* ``siren`` - first-layer ``omega_0 = 3000``, hidden ``omega_0 = 30`` on ``t in [-1, 1]`` (the
  authors' Colab). The official scripts keep ``omega_0 = 30`` and feed ``100 t``: same function
  class and weight gradients, except that the first-layer bias is not scaled by 100.
* ``relu`` - ReLU MLP (Kaiming init) on the official coordinates ``100 t``.
* ``relu_pe`` - ReLU MLP on the NeRF encoding of ``100 t``, ``L = floor(log2(N / 4))`` octaves
  (16 for bach, 17 for counting), as in the official code.
* ``relu_pe_unit`` (ours, not in the paper) - the same encoding of ``t`` itself, where the Nyquist
  rule keeps every octave below half the sampling rate.

A *window* of a clip keeps the paper's coordinate spacing: its coordinates are the window's slice of
``linspace(-1, 1, N_full)`` (spec pitfall 6.3), so ``omega_0`` and the octaves mean the same in Hz.
Metrics: MSE on the [-1, 1] waveform; PSNR in SIREN's convention ``10 log10(2^2 / MSE)`` with the
prediction clipped to [-1, 1] (= mapping to [0, 1] with ``data_range = 1``, as for images); SNR
``10 log10(mean(x^2) / MSE)``, 0 dB for a network that outputs silence.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import partial

import numpy as np
import torch
import xarray as xr
from torch import nn

from freqbook.data.audio import load_wav
from freqbook.metrics import psnr
from freqbook.models.siren import build_model
from freqbook.nn import nyquist_frequencies
from freqbook.plotting import PALETTE as _PALETTE
from freqbook.plotting import colour as _colour
from freqbook.profiles import config_for as shared_config_for
from freqbook.results import run_and_record as shared_run_and_record
from freqbook.train import default_device, fit, seed_everything

AUDIO_MODELS = ("siren", "relu", "relu_pe", "relu_pe_unit")
AUDIO_LABELS = {"siren": "SIREN", "relu": "ReLU", "relu_pe": "ReLU + P.E.",
                "relu_pe_unit": "ReLU + P.E. on [-1,1]"}
CLIP_FILES = {"bach": "inr/siren/gt_bach.wav", "counting": "inr/siren/gt_counting.wav"}


@dataclass(frozen=True)
class AudioFitConfig:
    """Settings of the audio-fitting experiment (one instance per profile, see :data:`PROFILES`).

    Attributes
    ----------
    clips, window_s, offsets_s
        Clip names (keys of :data:`CLIP_FILES`); window length in s (``None``: the whole clip,
        paper) and its start in each clip, s.
    hidden_features, hidden_layers
        MLP width and number of hidden-to-hidden layers (paper: 256 and 3).
    first_omega_0, hidden_omega_0
        SIREN frequency factors (paper/Colab: 3000 and 30).
    coord_scale
        Factor applied to ``t`` before the baselines (official ``ImplicitAudioWrapper``: 100).
    steps, lr
        Adam steps and learning rate (paper: 9 001 and 1e-4).
    seeds, models
        Seeds (tables report mean +- sd over them); which of :data:`AUDIO_MODELS` to train.
    single_seed
        Models trained on the first seed only (other seeds stay NaN), for a profile's time budget.
    """

    clips: tuple[str, ...] = ("bach", "counting")
    window_s: float | None = None
    offsets_s: tuple[float, ...] = (0.0, 0.0)
    hidden_features: int = 256
    hidden_layers: int = 3
    first_omega_0: float = 3000.0
    hidden_omega_0: float = 30.0
    coord_scale: float = 100.0
    steps: int = 9_001
    lr: float = 1e-4
    seeds: tuple[int, ...] = (0,)
    models: tuple[str, ...] = ("siren", "relu", "relu_pe")
    single_seed: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        unknown = [m for m in (*self.models, *self.single_seed) if m not in AUDIO_MODELS]
        if unknown:
            raise ValueError(f"unknown models {unknown}; valid: {', '.join(AUDIO_MODELS)}")
        bad = [c for c in self.clips if c not in CLIP_FILES]
        if bad:
            raise ValueError(f"unknown clips {bad}; valid: {', '.join(CLIP_FILES)}")
        if self.window_s is not None and len(self.offsets_s) != len(self.clips):
            raise ValueError("offsets_s needs one start time per clip")


# Windows start where the clip is loud (bach: music throughout; counting: inside a spoken number).
PROFILES: dict[str, AudioFitConfig] = {
    "smoke": AudioFitConfig(window_s=0.05, offsets_s=(2.0, 1.6), hidden_features=64,
                            steps=150, seeds=(0,)),
    # ~0.06 CPU-s per step at width 128 on 11 025 samples: SIREN on 3 seeds, the baselines
    # (which fail alike on every seed) on one, keeps the notebook near 3 minutes on 2 cores.
    "cpu": AudioFitConfig(window_s=0.25, offsets_s=(2.0, 1.5), hidden_features=128,
                          steps=200, seeds=(0, 1, 2),
                          models=("siren", "relu", "relu_pe", "relu_pe_unit"),
                          single_seed=("relu", "relu_pe", "relu_pe_unit")),
    "paper": AudioFitConfig(),
}


#: the profile's config with its seeds shifted to start at ``seed`` (``config_for(profile, seed)``)
config_for = partial(shared_config_for, PROFILES)


def window_coords(n_full: int, start: int, length: int) -> np.ndarray:
    """Coordinates of samples ``start .. start+length-1`` of a clip of ``n_full`` samples.

    The slice of ``linspace(-1, 1, n_full)``: the sample spacing ``2 / (n_full - 1)`` of the whole
    clip is kept, so a window is exactly as hard per second as the paper's task (spec pitfall 6.3).
    """
    if start < 0 or start + length > n_full:
        raise ValueError(f"window [{start}, {start + length}) outside a clip of {n_full} samples")
    return np.linspace(-1.0, 1.0, n_full, dtype=np.float64)[start : start + length]


def load_clip(name: str, window_s: float | None, offset_s: float):
    """``(rate, full_length, start, signal)`` of clip ``name``, cut to the window if any."""
    rate, signal = load_wav(CLIP_FILES[name])
    n_full = signal.size
    if window_s is None:
        return rate, n_full, 0, signal
    start, length = int(round(offset_s * rate)), int(round(window_s * rate))
    if start + length > n_full:
        raise ValueError(f"{name}: window ends after the clip ({n_full / rate:.2f} s)")
    return rate, n_full, start, signal[start : start + length]


class _Scaled(nn.Module):
    """Multiply the coordinates by a constant before a network (official ``100 t`` inputs)."""

    def __init__(self, net: nn.Module, scale: float) -> None:
        super().__init__()
        self.net, self.scale = net, float(scale)

    def forward(self, t: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return self.net(t * self.scale)


def build_audio_model(name: str, cfg: AudioFitConfig, n_full: int) -> nn.Module:
    """Network ``name`` of :data:`AUDIO_MODELS` for a clip of ``n_full`` samples (1-D in/out)."""
    common = dict(hidden_features=cfg.hidden_features, hidden_layers=cfg.hidden_layers)
    if name == "siren":
        return build_model("siren", 1, 1, first_omega_0=cfg.first_omega_0,
                           hidden_omega_0=cfg.hidden_omega_0, **common)
    octaves = nyquist_frequencies(n_full)
    if name == "relu_pe_unit":
        return build_model("relu_pe", 1, 1, pe_frequencies=octaves, **common)
    base = "relu_pe" if name == "relu_pe" else "relu"
    return _Scaled(build_model(base, 1, 1, pe_frequencies=octaves, **common), cfg.coord_scale)


def snr_db(prediction: np.ndarray, target: np.ndarray) -> float:
    """``10 log10(mean(target^2) / MSE)``: 0 dB for silence, +inf for a perfect fit."""
    mse = float(np.mean((np.asarray(prediction, np.float64) - target) ** 2))
    power = float(np.mean(np.asarray(target, np.float64) ** 2))
    return float("inf") if mse == 0.0 else float(10.0 * np.log10(power / mse))


def waveform_psnr(prediction: np.ndarray, target: np.ndarray) -> float:
    """SIREN's convention on [-1, 1] signals: prediction clipped, ``10 log10(2^2 / MSE)``."""
    return psnr(np.clip(prediction, -1.0, 1.0), target, data_range=2.0)


def run(cfg: AudioFitConfig, *, progress: bool | None = None,
        device: str | torch.device | None = None) -> xr.Dataset:
    """Train every model of ``cfg`` on every clip for every seed; return the record.

    Returns
    -------
    xarray.Dataset
        ``psnr`` and ``loss(clip, method, seed, step)`` (on each step's forward pass, before the
        update); ``final_psnr``, ``final_mse``, ``snr``, ``wall_s(clip, method, seed)``;
        ``params(method)``; first seed's ``fit(clip, method, sample)``, ``target`` and ``time``
        (s from the clip's start; NaN-padded); ``rate``, ``n_full``, ``pe_octaves`` and
        ``silence_psnr(clip)``, the PSNR of an all-zero prediction.
    """
    dev = torch.device(device) if device is not None else default_device()
    clips = [load_clip(c, cfg.window_s, o) for c, o in
             zip(cfg.clips, cfg.offsets_s if cfg.window_s else [0.0] * len(cfg.clips), strict=True)]
    n_max = max(c[3].size for c in clips)
    nc, nm, ns = len(cfg.clips), len(cfg.models), len(cfg.seeds)
    curves = np.full((nc, nm, ns, cfg.steps), np.nan)
    losses = np.full_like(curves, np.nan)
    final, mse_final, snr, walls = (np.full((nc, nm, ns), np.nan) for _ in range(4))
    fits = np.full((nc, nm, n_max), np.nan)
    target_arr, time_arr = np.full((nc, n_max), np.nan), np.full((nc, n_max), np.nan)
    n_params = np.zeros(nm, dtype=np.int64)
    (rates, fulls, octs), silence = (np.zeros(nc, dtype=np.int64) for _ in range(3)), np.zeros(nc)

    for c, (clip, (rate, n_full, start, signal)) in enumerate(zip(cfg.clips, clips, strict=True)):
        n = signal.size
        rates[c], fulls[c], octs[c] = rate, n_full, nyquist_frequencies(n_full)
        target_arr[c, :n] = signal
        time_arr[c, :n] = (start + np.arange(n)) / rate
        silence[c] = waveform_psnr(np.zeros(n), signal)
        t = torch.from_numpy(window_coords(n_full, start, n).astype(np.float32)).view(-1, 1).to(dev)
        y = torch.from_numpy(signal.reshape(-1, 1)).to(dev)
        for i, name in enumerate(cfg.models):
            for j, seed in enumerate(cfg.seeds):
                if j > 0 and name in cfg.single_seed:
                    continue
                seed_everything(seed)
                model = build_audio_model(name, cfg, n_full).to(dev)
                n_params[i] = sum(p.numel() for p in model.parameters())

                def step(model=model, t=t, y=y):
                    pred = model(t)
                    loss = torch.mean((pred - y) ** 2)
                    with torch.no_grad():
                        mse = torch.mean((pred.clamp(-1.0, 1.0) - y) ** 2)
                    return loss, {"psnr": float(10.0 * torch.log10(4.0 / mse))}

                tic = time.perf_counter()
                hist = fit(model.parameters(), step, cfg.steps, cfg.lr,
                           desc=f"{clip} {name} s{seed}", progress=progress)
                walls[c, i, j] = time.perf_counter() - tic
                curves[c, i, j], losses[c, i, j] = hist.metrics["psnr"], hist.loss
                with torch.no_grad():
                    out = model(t).reshape(-1).double().cpu().numpy()
                final[c, i, j] = waveform_psnr(out, signal)
                mse_final[c, i, j] = float(np.mean((out - signal) ** 2))
                snr[c, i, j] = snr_db(out, signal)
                if j == 0:
                    fits[c, i, :n] = out

    cms, cmss = ("clip", "method", "seed"), ("clip", "method", "seed", "step")
    conv = "SIREN: [-1,1] waveform, prediction clipped, 10 log10(2^2/MSE)"
    return xr.Dataset(
        {
            "psnr": (cmss, curves, {"units": "dB", "convention": conv}),
            "loss": (cmss, losses, {"long_name": "MSE on the [-1, 1] waveform"}),
            "final_psnr": (cms, final, {"units": "dB", "convention": conv}),
            "final_mse": (cms, mse_final, {"long_name": "MSE on the [-1, 1] waveform"}),
            "snr": (cms, snr, {"units": "dB", "long_name": "10 log10(mean(x^2) / MSE)"}),
            "wall_s": (cms, walls, {"units": "s"}),
            "params": (("method",), n_params),
            "fit": (("clip", "method", "sample"), fits),
            "target": (("clip", "sample"), target_arr),
            "time": (("clip", "sample"), time_arr, {"units": "s"}),
            "rate": (("clip",), rates, {"units": "Hz"}),
            "n_full": (("clip",), fulls, {"long_name": "samples in the whole clip"}),
            "pe_octaves": (("clip",), octs, {"long_name": "Nyquist rule floor(log2(N/4))"}),
            "silence_psnr": (("clip",), silence, {"units": "dB"}),
        },
        coords={"clip": list(cfg.clips), "method": list(cfg.models), "seed": list(cfg.seeds),
                "step": np.arange(cfg.steps), "sample": np.arange(n_max)},
    )


def run_and_record(cfg: AudioFitConfig, profile: str, *, progress: bool | None = None):
    """:func:`run` and save the record ``siren/audio`` of ``profile``; returns ``(ds, path)``."""
    from freqbook.data import fetch
    from freqbook.results.record import file_sha256

    return shared_run_and_record(
        run, cfg, paper="siren", experiment="audio", profile=profile, progress=progress,
        data_sha256=lambda: {CLIP_FILES[c]: file_sha256(fetch(CLIP_FILES[c])) for c in cfg.clips},
    )


# ----------------------------------------------------------------------------- plots and players
#: the book's colour-blind-safe palette (freqbook.plotting); the target alone is black
COLOURS = {m: _colour(m, i) for i, m in enumerate(("siren", "relu", "relu_pe"))}
COLOURS["relu_pe_unit"] = _PALETTE[5]  # sky blue, distinct from the official ReLU + P.E.
#: shortest listening time of a player (s); a shorter fitted window is repeated to reach it
MIN_LISTEN_S = 2.0


def _names(ds: xr.Dataset) -> tuple[list[str], list[str]]:
    return [str(m) for m in ds["method"].values], [str(c) for c in ds["clip"].values]


def _clip_arrays(ds: xr.Dataset, clip: str) -> tuple[np.ndarray, np.ndarray]:
    """``(time_ms, target)`` of ``clip`` without the NaN padding."""
    t = ds["time"].sel(clip=clip).values
    return 1e3 * t[np.isfinite(t)], ds["target"].sel(clip=clip).values[np.isfinite(t)]


def plot_waveforms(ds: xr.Dataset, zoom_ms: float = 5.0):
    """Target (black) and each model's fit (colour), whole window and a ``zoom_ms`` close-up.

    One row per (clip, model), two columns (window, zoom starting at the window's middle). All
    panels of a clip share the target's y-range, so amplitudes compare across models.
    """
    import matplotlib.pyplot as plt

    methods, clips = _names(ds)
    nrow = len(clips) * len(methods)
    fig, axes = plt.subplots(nrow, 2, figsize=(7.2, 1.25 * nrow + 0.4), squeeze=False,
                             gridspec_kw={"width_ratios": [2.2, 1]}, sharey="row")
    for c, clip in enumerate(clips):
        t_ms, target = _clip_arrays(ds, clip)
        lim = 1.15 * float(np.max(np.abs(target)))
        z0 = t_ms[t_ms.size // 2]
        zoom = (t_ms >= z0) & (t_ms <= z0 + zoom_ms)
        for m, method in enumerate(methods):
            row = axes[c * len(methods) + m]
            fit_ = ds["fit"].sel({"clip": clip, "method": method}).values[: t_ms.size]
            for ax, sel in ((row[0], slice(None)), (row[1], zoom)):
                ax.plot(t_ms[sel], target[sel], color="k", lw=0.7, label="target")
                ax.plot(t_ms[sel], fit_[sel], color=COLOURS.get(method), lw=0.9, alpha=0.85,
                        label=AUDIO_LABELS.get(method, method))
                ax.set_ylim(-lim, lim)
            row[0].axvspan(t_ms[zoom][0], t_ms[zoom][-1], color="k", alpha=0.08, lw=0)
            row[0].set_ylabel(f"{clip}: {AUDIO_LABELS.get(method, method)}\namplitude", fontsize=7)
    axes[-1, 0].set_xlabel("time in the clip (ms)")
    axes[-1, 1].set_xlabel("time in the clip (ms)")
    axes[0, 0].set_title("fitted window; black: target, colour: fit (shaded: the zoom)")
    axes[0, 1].set_title(f"zoom, {zoom_ms:g} ms")
    fig.tight_layout()
    return fig


def plot_errors(ds: xr.Dataset):
    """``fit - target`` per clip (rows) and model (columns), all on one shared y-scale."""
    import matplotlib.pyplot as plt

    methods, clips = _names(ds)
    err = ds["fit"] - ds["target"]
    lim = 1.05 * float(np.nanmax(np.abs(err.values)))
    fig, axes = plt.subplots(len(clips), len(methods), figsize=(1.9 * len(methods) + 0.6,
                             1.7 * len(clips) + 0.4), squeeze=False, sharey=True)
    for c, clip in enumerate(clips):
        t_ms, target = _clip_arrays(ds, clip)
        for m, method in enumerate(methods):
            e = err.sel({"clip": clip, "method": method}).values[: t_ms.size]
            ax = axes[c, m]
            ax.plot(t_ms, e, color=COLOURS.get(method), lw=0.5)
            ax.set_ylim(-lim, lim)
            rms = float(np.sqrt(np.mean(e**2)))
            ax.set_title(f"{AUDIO_LABELS.get(method, method)}\n{clip}: RMS {rms:.3f}", fontsize=8)
        axes[c, 0].set_ylabel("fit − target")
    for ax in axes[-1]:
        ax.set_xlabel("time (ms)")
    fig.tight_layout()
    return fig


def plot_psnr_curves(ds: xr.Dataset):
    """PSNR vs step per clip (mean +- sd over seeds), with the all-zero prediction as a floor."""
    import matplotlib.pyplot as plt

    from freqbook.plotting import learning_curves

    methods, clips = _names(ds)
    fig, axes = plt.subplots(1, len(clips), figsize=(4.2 * len(clips), 3.2), squeeze=False)
    for ax, clip in zip(axes[0], clips, strict=True):
        learning_curves(ds["psnr"].sel(clip=clip), ax=ax, labels=AUDIO_LABELS)
        for line, method in zip(ax.lines, methods, strict=True):  # one line per method, in order
            line.set_color(COLOURS.get(method))
        floor = float(ds["silence_psnr"].sel(clip=clip))
        ax.axhline(floor, color="k", ls=":", lw=1)
        ax.text(1, floor + 0.5, "silence (all zeros)", fontsize=7)
        ax.set_title(clip)
        ax.set_ylabel("PSNR (dB; [-1,1], clipped, range 2)")
        handles, names = ax.get_legend_handles_labels()
        ax.get_legend().remove()
    fig.legend(handles, names, loc="lower center", ncol=len(methods), fontsize=7)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig


def summary_table(ds: xr.Dataset):
    """``mean ± sd`` over seeds of PSNR, SNR, MSE and train time, one row per clip and model."""
    import pandas as pd

    from freqbook.plotting import mean_sd

    cols = {"PSNR (dB)": ("final_psnr", "{:.2f}"), "SNR (dB)": ("snr", "{:.2f}"),
            "MSE": ("final_mse", "{:.2e}"), "train time (s)": ("wall_s", "{:.1f}")}
    frames = {clip: pd.DataFrame({h: mean_sd(ds[v].sel(clip=clip), fmt=f)
                                  for h, (v, f) in cols.items()}) for clip in _names(ds)[1]}
    table = pd.concat(frames, names=["clip", "model"])
    return table.rename(index=AUDIO_LABELS, level="model")


def listen_repeats(n_samples: int, rate: int, min_s: float = MIN_LISTEN_S) -> int:
    """How many times a window of ``n_samples`` is played in a row to last at least ``min_s``."""
    if n_samples <= 0 or rate <= 0:
        raise ValueError(f"need a non-empty window and a positive rate, got {n_samples}, {rate}")
    return max(1, int(np.ceil(min_s * rate / n_samples)))


def players(ds: xr.Dataset, clip: str,
            min_s: float = MIN_LISTEN_S) -> list[tuple[str, object]]:
    """``(label, IPython Audio)`` for the target and each fit of ``clip``, clipped to [-1, 1].

    The fitted window is played :func:`listen_repeats` times in a row so that every player lasts
    at least ``min_s`` seconds (a network is never evaluated outside the window it was trained
    on); a window that is already long enough (``paper``: the whole clip) is played once. The
    window's ends are faded over 5 ms so that the repeats do not click.
    """
    from IPython.display import Audio

    t_ms, target = _clip_arrays(ds, clip)
    rate = int(ds["rate"].sel(clip=clip))
    reps = listen_repeats(t_ms.size, rate, min_s)
    fade = np.ones(t_ms.size)
    k = min(int(0.005 * rate), t_ms.size // 4)
    if reps > 1 and k > 0:
        ramp = np.linspace(0.0, 1.0, k)
        fade[:k], fade[-k:] = ramp, ramp[::-1]
    waves = [("target", target)] + [(AUDIO_LABELS.get(m, m), ds["fit"].sel(
        {"clip": clip, "method": m}).values[: t_ms.size]) for m in _names(ds)[0]]
    return [(name, Audio(np.tile(np.clip(w, -1, 1) * fade, reps), rate=rate, normalize=False))
            for name, w in waves]
