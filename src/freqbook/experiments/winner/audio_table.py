"""The audio-fitting table (artefact T-audio of ``papers/winner.md``; record ``winner/audio``).

Every clip of the code's list that we hold (:data:`~.common.CLIP_FILES`; missing ones and why in
:data:`~.common.MISSING_CLIPS`), methods SIREN (first ``omega_0 = 3000``), SIREN² (WINNER),
FINER, WIRE and Gauss (ReLU + P.E. in the ``paper`` profile, as the code can run it). PSNR in both
conventions (:mod:`.common`); the paper's number is the peak over epochs in the WINNER convention.

The ``paper`` profile is the code's: 150 000 samples, width 222, 1 000 epochs, Adam 1e-4,
``StepLR(20, 0.99)``. One deviation stays even there: the code trains the baselines on mini-batches
of 256² coordinates (3 per epoch at 150 000 samples); :func:`.common.train` is full-batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from freqbook import profiles
from freqbook.experiments.winner.audio_runs import clip_sha, fit_clips
from freqbook.experiments.winner.common import (
    CLIP_FILES,
    LABELS,
    METHODS,
    MISSING_CLIPS,
    NetSpec,
    check_names,
)
from freqbook.experiments.winner.tables import SUMMARY_SOURCE, method_table, paper_values_note
from freqbook.results.record import run_and_record as _record

ALL_CLIPS = tuple(CLIP_FILES)
#: paper values known for the table (third-party summary of 2509.12980, Table 1; peak PSNR dB)
PAPER_VALUES = {("bach", "winner"): 60.5, ("bach", "finer"): 64.5}


@dataclass(frozen=True)
class AudioTableConfig:
    """Settings of the audio table (one instance per profile, :data:`PROFILES`).

    Attributes
    ----------
    clips, window
        Clips (each window: its first loud one, see :func:`~.common.loud_window`); samples per
        window (``None``: all 150 000).
    hidden_features, hidden_layers
        Width and hidden-to-hidden layers (code: 222, 3).
    steps, lr, gamma
        Full-batch steps (= epochs), learning rate, ``StepLR(20, gamma)`` factor.
    seeds, methods, single_seed
        Seeds; methods; methods run on the first seed only (for the profile's budget).
    control_clips
        Clips whose windows are fitted once more, first seed only, **stretched to [-1, 1]** - a
        control showing whether a method fails because of the window's coordinate spacing.
    """

    clips: tuple[str, ...] = ALL_CLIPS
    window: int | None = None
    hidden_features: int = 222
    hidden_layers: int = 3
    steps: int = 1000
    lr: float = 1e-4
    gamma: float = 0.99
    seeds: tuple[int, ...] = (0,)
    methods: tuple[str, ...] = METHODS
    single_seed: tuple[str, ...] = ()
    control_clips: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_names("clips", (*self.clips, *self.control_clips), CLIP_FILES)
        check_names("methods", (*self.methods, *self.single_seed), METHODS)


_FIVE = ("siren", "winner", "finer", "wire", "gauss")
PROFILES: dict[str, AudioTableConfig] = {
    "smoke": AudioTableConfig(clips=("tetris", "bach"), window=1024, hidden_features=64,
                              steps=60, methods=_FIVE, control_clips=("bach",)),
    # 2 205 samples (50 ms at 44.1 kHz) per clip; WIRE (complex, ~4x the cost) on one seed
    "cpu": AudioTableConfig(window=2205, hidden_features=96, steps=150, seeds=(0, 1, 2),
                            methods=_FIVE, single_seed=("wire",),
                            control_clips=("tetris", "bach")),
    "paper": AudioTableConfig(),
}


def config_for(profile: str, seed: int = 0) -> AudioTableConfig:
    """The profile's config, seeds starting at ``seed`` (:func:`freqbook.profiles.config_for`)."""
    return profiles.config_for(PROFILES, profile, seed)


def run(cfg: AudioTableConfig, *, progress: bool | None = None) -> xr.Dataset:
    """Fit every method on every clip and seed (see :func:`.audio_runs.fit_clips`); with
    ``control_clips``, also ``ctrl_peak_psnr``, ``ctrl_gain_over_zero`` ``(ctrl_clip, method)``
    and ``ctrl_zero_psnr(ctrl_clip)`` of the stretched control."""
    spec = NetSpec(cfg.hidden_features, cfg.hidden_layers, 3000.0)
    ds = fit_clips(cfg.clips, cfg.methods, cfg.seeds, spec=spec, window=cfg.window,
                   steps=cfg.steps, lr=cfg.lr, gamma=cfg.gamma, single_seed=cfg.single_seed,
                   progress=progress)
    if not cfg.control_clips:
        return ds
    ctrl = fit_clips(cfg.control_clips, cfg.methods, cfg.seeds[:1], spec=spec,
                     window=cfg.window, steps=cfg.steps, lr=cfg.lr, gamma=cfg.gamma,
                     progress=progress, stretch=True)
    cm = ("ctrl_clip", "method")
    ds["ctrl_peak_psnr"] = (cm, ctrl["peak_psnr"].isel(seed=0).values, ds["peak_psnr"].attrs)
    ds["ctrl_gain_over_zero"] = (cm, ctrl["gain_over_zero"].isel(seed=0).values,
                                 {"units": "dB", "long_name": "final PSNR - PSNR of silence"})
    ds["ctrl_zero_psnr"] = (("ctrl_clip",), ctrl["zero_psnr"].values)
    return ds.assign_coords(ctrl_clip=list(cfg.control_clips))


def run_and_record(cfg: AudioTableConfig, profile: str, *, progress: bool | None = None):
    """:func:`run` and save the record ``winner/audio``; returns ``(ds, path)``."""
    return _record(run, cfg, paper="winner",
                   experiment="audio", profile=profile, progress=progress,
                   data_sha256=lambda: clip_sha(cfg.clips))


def control_table(ds: xr.Dataset):
    """Peak PSNR of each method on the stretched control windows, next to the paper-spacing run."""
    import pandas as pd

    rows = {}
    for c in ds["ctrl_clip"].values:
        for m in ds["method"].values:
            sel = {"clip": c, "method": m}
            rows[(str(c), LABELS[str(m)])] = {
                "paper spacing (seed 0)": float(ds["peak_psnr"].sel(sel).isel(seed=0)),
                "stretched to [-1, 1]": float(ds["ctrl_peak_psnr"].sel(
                    {"ctrl_clip": c, "method": m})),
                "all-zero output": float(ds["ctrl_zero_psnr"].sel(ctrl_clip=c))}
    df = pd.DataFrame(rows).T
    df.index.names = ["clip", "method"]
    return df.style.format("{:.1f}").set_caption(
        "Peak PSNR (dB, WINNER convention), seed 0: the window at the paper's spacing and "
        "stretched to [-1, 1]")


def clip_table(ds: xr.Dataset):
    """Per clip: rate, centroid, noise scales, window start and the all-zero PSNR (a Styler)."""
    import pandas as pd

    rows = {str(c): {"rate (Hz)": int(ds["rate"].sel(clip=c)),
                     "ψ (1 = Nyquist)": float(ds["psi"].sel(clip=c)),
                     "centroid (Hz)": float(ds["psi"].sel(clip=c) * ds["rate"].sel(clip=c) / 2),
                     "s0": float(ds["s0"].sel(clip=c)), "s1": float(ds["s1"].sel(clip=c)),
                     "window start": int(ds["start"].sel(clip=c)),
                     "all-zero PSNR (dB)": float(ds["zero_psnr"].sel(clip=c))}
            for c in ds["clip"].values}
    df = pd.DataFrame(rows).T
    df.index.name = "clip"
    return df.style.format({"rate (Hz)": "{:,.0f}", "ψ (1 = Nyquist)": "{:.3f}",
                            "centroid (Hz)": "{:,.0f}", "s0": "{:.0f}", "s1": "{:.2f}",
                            "window start": "{:,.0f}", "all-zero PSNR (dB)": "{:.1f}"})


def missing_table():
    """The code's clips this book cannot fit, and why."""
    import pandas as pd

    return pd.DataFrame({"why missing": MISSING_CLIPS})


def psnr_table(ds: xr.Dataset, variable: str = "peak_psnr"):
    """Clips x methods, ``mean ± sd`` over seeds of ``variable`` (paper values:
    :func:`paper_note`)."""
    what = {"peak_psnr": "Peak PSNR (dB, WINNER convention)",
            "final_psnr_siren": "Final PSNR (dB, SIREN convention)"}.get(variable, variable)
    return method_table(ds, variable, "clip", f"{what}, mean ± sd over seeds.")


def paper_note(ds: xr.Dataset) -> str:
    """The known paper values (bach, third-party summary) beside ours, as Markdown."""
    return paper_values_note(ds, "clip", PAPER_VALUES, "peak_psnr", SUMMARY_SOURCE)


def plot_bars(ds: xr.Dataset):
    """Peak PSNR (WINNER convention) per clip and method, mean over seeds, with the all-zero
    level of each clip as a black tick."""
    import matplotlib.pyplot as plt

    from freqbook.experiments.winner.common import COLOURS

    clips, methods = [str(c) for c in ds["clip"].values], [str(m) for m in ds["method"].values]
    fig, ax = plt.subplots(figsize=(9.0, 3.4))
    width = 0.8 / len(methods)
    x = np.arange(len(clips))
    for i, m in enumerate(methods):
        da = ds["peak_psnr"].sel({"method": m})
        mean = da.mean("seed", skipna=True).values
        ax.bar(x + (i - len(methods) / 2 + 0.5) * width, mean, width, color=COLOURS[m],
               label=LABELS[m])
    ax.scatter(x, ds["zero_psnr"].values, marker="_", s=600, color="k", label="all-zero output")
    ax.set_xticks(x, clips)
    ax.set_ylabel("peak PSNR (dB, WINNER conv.)")
    ax.legend(fontsize=7, ncol=3)
    fig.tight_layout()
    return fig
