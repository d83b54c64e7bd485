"""The spectral bottleneck (artefact F-bottleneck of ``papers/winner.md``; record
``winner/bottleneck``).

A plain SIREN (first ``omega_0 = 3000``, the audio baseline of the code) is fitted to a
high-centroid clip (tetris, ``psi = 0.573``) and a low-centroid one (bach, ``psi = 0.074``), next
to SIREN² (first ``omega_0 = 30`` plus WINNER noise) and, as a control, SIREN with first
``omega_0 = 30`` and no noise. The paper's claim (long paper Fig. 1, abstract): on the
high-centroid target the SIREN output collapses towards zero and stays there; WINNER's does not.

Windows keep the whole target's coordinate spacing; noise scales come from the whole
150 000-sample target (spec Sec. 5.3). The ``paper`` profile is the code's setting: the whole
150 000 samples, width 222, 1 000 epochs, lr 1e-4, ``StepLR(20, 0.99)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from freqbook import profiles
from freqbook.experiments.winner.audio_runs import clip_sha, fit_clips
from freqbook.experiments.winner.common import (
    CLIP_FILES,
    COLOURS,
    LABELS,
    METHODS,
    NetSpec,
    amplitude_spectrum,
    check_names,
)
from freqbook.results.record import run_and_record as _record


@dataclass(frozen=True)
class BottleneckConfig:
    """Settings of the bottleneck figure (one instance per profile, :data:`PROFILES`).

    Attributes
    ----------
    clips, starts
        Clips and the first sample of each window (``-1``: the first loud window, see
        :func:`~freqbook.experiments.winner.common.loud_window`); bach's 66 150 is the spec's.
    window
        Samples per window (``None``: all 150 000, paper).
    hidden_features, hidden_layers
        Width and hidden-to-hidden layers (code: 222 and 3, i.e. 4 sine layers).
    steps, lr, gamma
        Full-batch steps (= epochs), Adam learning rate, ``StepLR(20, gamma)`` factor.
    seeds, methods, single_seed
        Seeds; methods (``siren``, ``winner``, ``siren30``); methods run on the first seed only.
    """

    clips: tuple[str, ...] = ("tetris", "bach")
    starts: tuple[int, ...] = (0, 0)
    window: int | None = None
    hidden_features: int = 222
    hidden_layers: int = 3
    steps: int = 1000
    lr: float = 1e-4
    gamma: float = 0.99
    seeds: tuple[int, ...] = (0,)
    methods: tuple[str, ...] = ("siren", "winner", "siren30")
    single_seed: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_names("clips", self.clips, CLIP_FILES)
        check_names("methods", (*self.methods, *self.single_seed), (*METHODS, "siren30"))
        if len(self.starts) != len(self.clips):
            raise ValueError("starts needs one window start per clip")


PROFILES: dict[str, BottleneckConfig] = {
    # 2 205 samples (50 ms at 44.1 kHz), width 128: ~0.03 CPU-s per step
    "smoke": BottleneckConfig(starts=(-1, 66_150), window=2205, hidden_features=128, steps=120,
                              methods=("siren", "winner")),
    "cpu": BottleneckConfig(starts=(-1, 66_150), window=4410, hidden_features=128, steps=300,
                            seeds=(0, 1, 2), single_seed=("siren30",)),
    "paper": BottleneckConfig(),
}


def config_for(profile: str, seed: int = 0) -> BottleneckConfig:
    """The profile's config, seeds starting at ``seed`` (:func:`freqbook.profiles.config_for`)."""
    return profiles.config_for(PROFILES, profile, seed)


def run(cfg: BottleneckConfig, *, progress: bool | None = None) -> xr.Dataset:
    """Fit every method on every clip and seed (see :func:`.audio_runs.fit_clips`)."""
    spec = NetSpec(cfg.hidden_features, cfg.hidden_layers, 3000.0)
    starts = {c: s for c, s in zip(cfg.clips, cfg.starts, strict=True) if s >= 0}
    return fit_clips(cfg.clips, cfg.methods, cfg.seeds, spec=spec, window=cfg.window,
                     steps=cfg.steps, lr=cfg.lr, gamma=cfg.gamma, starts=starts,
                     single_seed=cfg.single_seed, progress=progress)


def run_and_record(cfg: BottleneckConfig, profile: str, *, progress: bool | None = None):
    """:func:`run` and save the record ``winner/bottleneck``; returns ``(ds, path)``."""
    return _record(run, cfg, paper="winner",
                   experiment="bottleneck", profile=profile, progress=progress,
                   data_sha256=lambda: clip_sha(cfg.clips))


# ----------------------------------------------------------------------------- plots and players
def _valid(ds: xr.Dataset, clip: str) -> np.ndarray:
    return np.isfinite(ds["target"].sel(clip=clip).values)


#: curve styles of :func:`plot_curves`: the control is dashed and thin and drawn on top of the
#: thick SIREN line, so where both sit at the all-zero level each stays visible
_CURVE_STYLE = {"siren": dict(lw=2.6, ls="-", zorder=2), "winner": dict(lw=1.6, ls="-", zorder=3),
                "siren30": dict(lw=1.3, ls=(0, (4, 2)), zorder=4)}


def plot_curves(ds: xr.Dataset):
    """PSNR (WINNER convention) vs step per clip, mean ± sd over seeds; dotted: silence.

    One legend below the panels (it never covers a curve)."""
    import matplotlib.pyplot as plt

    clips = [str(c) for c in ds["clip"].values]
    fig, axes = plt.subplots(1, len(clips), figsize=(3.6 * len(clips), 3.4), squeeze=False)
    handles: dict[str, object] = {}
    for ax, clip in zip(axes[0], clips, strict=True):
        for method in ds["method"].values:
            c = ds["psnr"].sel({"clip": clip, "method": method}).dropna("seed", how="all")
            mean, steps = c.mean("seed").values, ds["step"].values + 1
            m = str(method)
            style = _CURVE_STYLE.get(m, dict(lw=1.4, ls="-", zorder=2))
            (line,) = ax.plot(steps, mean, color=COLOURS[m], **style,
                              label=LABELS[m] + (f" ({c.sizes['seed']} seeds)"
                                                 if c.sizes["seed"] > 1 else " (1 seed)"))
            handles.setdefault(m, line)
            if c.sizes["seed"] > 1:
                sd = c.std("seed", ddof=1).values
                ax.fill_between(steps, mean - sd, mean + sd, color=COLOURS[m], alpha=0.2, lw=0,
                                zorder=1)
        zero = float(ds["zero_psnr"].sel(clip=clip))
        ax.axhline(zero, color="k", ls=":", lw=1, zorder=1)
        ax.annotate("all-zero output", (1, zero), xytext=(2, -10), textcoords="offset points",
                    fontsize=8)
        ax.set_title(f"{clip} (ψ = {float(ds['psi'].sel(clip=clip)):.3f})")
        ax.set_xlabel("Adam step (= epoch, full batch)")
        ax.set_ylabel("PSNR (dB, WINNER convention)")
    fig.legend(list(handles.values()), [h.get_label() for h in handles.values()],
               loc="lower center", ncol=min(3, len(handles)), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    return fig


def plot_waveforms_and_spectra(ds: xr.Dataset, zoom: int = 300):
    """Per clip: a ``zoom``-sample stretch of target and fits, and their amplitude spectra."""
    import matplotlib.pyplot as plt

    clips, methods = [str(c) for c in ds["clip"].values], [str(m) for m in ds["method"].values]
    fig, axes = plt.subplots(len(clips), 2, figsize=(9.0, 2.8 * len(clips)), squeeze=False)
    for row, clip in zip(axes, clips, strict=True):
        ok = _valid(ds, clip)
        y = ds["target"].sel(clip=clip).values[ok]
        rate = float(ds["rate"].sel(clip=clip))
        mid = y.size // 2
        sl = slice(mid, mid + zoom)
        t_ms = 1e3 * (float(ds["start"].sel(clip=clip)) + np.arange(y.size)) / rate
        row[0].plot(t_ms[sl], y[sl], color="k", lw=1.0, label="target")
        f, a_t = amplitude_spectrum(y, rate)
        row[1].semilogy(f / 1e3, a_t + 1e-9, color="k", lw=0.8, label="target")
        for m in methods:
            out = ds["fit"].sel({"clip": clip, "method": m}).values[ok]
            row[0].plot(t_ms[sl], out[sl], color=COLOURS[m], lw=0.9, alpha=0.85, label=LABELS[m])
            row[1].semilogy(f / 1e3, amplitude_spectrum(out, rate)[1] + 1e-9, color=COLOURS[m],
                            lw=0.7, alpha=0.8, label=LABELS[m])
        row[0].set_title(f"{clip}: waveform (first seed)")
        row[0].set_xlabel("time in the clip (ms)")
        row[1].set_title(f"{clip}: amplitude spectrum of the window")
        row[1].set_xlabel("frequency (kHz)")
        row[1].set_ylim(bottom=max(1e-4, float(np.percentile(a_t, 1))))
        row[0].legend(fontsize=6)
    fig.tight_layout()
    return fig


def summary_table(ds: xr.Dataset):
    """Mean ± sd over seeds: peak/final PSNR (WINNER), final PSNR (SIREN), RMS ratio."""
    import pandas as pd

    from freqbook.plotting import mean_sd

    cols = {"peak PSNR, WINNER conv. (dB)": ("peak_psnr", "{:.2f}"),
            "final PSNR, WINNER conv. (dB)": ("final_psnr", "{:.2f}"),
            "final PSNR, SIREN conv. (dB)": ("final_psnr_siren", "{:.2f}"),
            "RMS(out)/RMS(target)": ("rms_ratio", "{:.3f}"),
            "train time (s)": ("wall_s", "{:.1f}")}
    frames = {str(c): pd.DataFrame({h: mean_sd(ds[v].sel(clip=c), fmt=f)
                                    for h, (v, f) in cols.items()}) for c in ds["clip"].values}
    return pd.concat(frames, names=["clip", "method"]).rename(index=LABELS, level="method")


def players(ds: xr.Dataset, clip: str) -> list[tuple[str, object]]:
    """``(label, IPython Audio)`` of the target and each first-seed fit (clipped to [-1, 1])."""
    from IPython.display import Audio

    ok = _valid(ds, clip)
    rate = int(ds["rate"].sel(clip=clip))
    waves = [("target", ds["target"].sel(clip=clip).values[ok])]
    waves += [(LABELS[str(m)], ds["fit"].sel({"clip": clip, "method": m}).values[ok])
              for m in ds["method"].values]
    return [(n, Audio(np.clip(w, -1, 1), rate=rate, normalize=False)) for n, w in waves]
