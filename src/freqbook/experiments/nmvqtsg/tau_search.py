"""The SVQ temperature search (record ``nmvqtsg/tau_search``; spec ``papers/nmvqtsg.md`` 2.4).

For every training seed: train (or load) stages 1-2, generate ``tau_samples`` unconditional
series ``X̂``, reconstruct ``tau_series`` training series by SVQ at each τ of the grid
``{0.1, 0.5, 1, 2, 4}`` and compute FID(ROCKET(X̂), ROCKET(X̃'_τ)); τ* = argmin. The code logs a
3-panel figure per τ (100 generated curves, 100 SVQ curves, a 2-D PCA of both feature sets);
:func:`plot_three_panel` redraws it from the record.
"""

from __future__ import annotations

import numpy as np
import torch
import xarray as xr

from freqbook.experiments.nmvqtsg.config import NMConfig
from freqbook.experiments.nmvqtsg.data import data_sha256, load_resplit
from freqbook.experiments.nmvqtsg.evaluation import features, pca_2d, sample, tau_search
from freqbook.experiments.nmvqtsg.training import _tensor, svq_reconstruct, train_generator

N_CURVES = 100


def run(cfg: NMConfig, *, progress: bool | None = None) -> xr.Dataset:
    """τ search on every training seed; figure data (curves, PCA) of the first seed."""
    data = load_resplit(cfg.dataset)
    rocket = features(cfg)
    fids, changed, stars = [], [], []
    for seed in cfg.seeds:
        gen = train_generator(data, cfg, seed, progress)
        ts = tau_search(data, gen, cfg, seed, rocket)
        fids.append(ts.fid)
        changed.append(ts.changed)
        stars.append(ts.tau_star)
    # figure data (first seed): generated curves and SVQ curves at every tau, PCA of features
    seed = cfg.seeds[0]
    gen = train_generator(data, cfg, seed, progress)
    n = min(N_CURVES, cfg.tau_samples)
    X_hat = sample(gen, n, cfg, seed=70_000 + seed).numpy()
    rng = np.random.default_rng(seed)
    X = _tensor(data.X_train[rng.choice(len(data.X_train), n, replace=False)])
    svq = np.stack([svq_reconstruct(gen.stage1, X, tau, torch.Generator().manual_seed(i)).numpy()
                    for i, tau in enumerate(cfg.taus)])
    Z_hat = rocket(X_hat)
    pcs = pca_2d(Z_hat, *[rocket(s) for s in svq])
    t = np.arange(data.length)
    return xr.Dataset(
        {
            "fid": (("seed", "tau"), np.array(fids)),
            "token_change": (("seed", "tau"), np.array(changed)),
            "tau_star": (("seed",), np.array(stars)),
            "gen_curves": (("example", "time"), X_hat[:, 0]),
            "svq_curves": (("tau", "example", "time"), svq[:, :, 0]),
            "pca_gen": (("example", "pc"), pcs[0]),
            "pca_svq": (("tau", "example", "pc"), np.stack(pcs[1:])),
        },
        coords={"seed": list(cfg.seeds), "tau": list(cfg.taus), "time": t,
                "example": np.arange(n), "pc": [1, 2]},
        attrs={"dataset": cfg.dataset},
    )


def run_and_record(cfg: NMConfig, profile: str, *, progress: bool | None = None):
    """:func:`run` and save record ``nmvqtsg/tau_search``; returns ``(ds, path)``."""
    from freqbook.results import run_and_record as record

    return record(run, cfg, paper="nmvqtsg", experiment="tau_search", profile=profile,
                  progress=progress, data_sha256=lambda: data_sha256(cfg.dataset))


def plot_fid_vs_tau(ds: xr.Dataset):
    """FID(X̂, X̃'_τ) against τ, one line per training seed, τ* marked."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.8, 3.2))
    taus = ds["tau"].values
    for s in ds["seed"].values:
        ax.plot(taus, ds["fid"].sel(seed=s), marker="o", lw=1.2, label=f"training seed {int(s)}")
        star = float(ds["tau_star"].sel(seed=s))
        ax.plot([star], [float(ds["fid"].sel(seed=s, tau=star))], "k*", ms=10)
    ax.set_xscale("log")
    ax.set_xlabel("SVQ temperature τ")
    ax.set_ylabel("FID(generated, SVQ reconstructions)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_three_panel(ds: xr.Dataset, tau: float | None = None):
    """The code's 3-panel figure at ``tau`` (default: the first seed's τ*)."""
    import matplotlib.pyplot as plt

    tau = float(ds["tau_star"].values[0]) if tau is None else tau
    fig, axes = plt.subplots(1, 3, figsize=(9.6, 3.0))
    t = ds["time"].values
    for ax, curves, title in ((axes[0], ds["gen_curves"].values, "generated X̂"),
                              (axes[1], ds["svq_curves"].sel(tau=tau).values,
                               f"SVQ reconstructions X̃′ (τ = {tau:g})")):
        for c in curves:
            ax.plot(t, c, color="C0", alpha=0.1, lw=0.8)
        ax.set_ylim(-5, 5)
        ax.set_title(title)
        ax.set_xlabel("time step")
    axes[2].scatter(*ds["pca_gen"].values.T, s=6, alpha=0.5, label="X̂")
    axes[2].scatter(*ds["pca_svq"].sel(tau=tau).values.T, s=6, alpha=0.5, label="X̃′")
    axes[2].set_title("PCA of ROCKET features")
    axes[2].legend(fontsize=8)
    fig.tight_layout()
    return fig


def reading(ds: xr.Dataset) -> str:
    """Markdown: τ* per seed, where it sits on the grid, and the FID span."""
    taus = [float(t) for t in ds["tau"].values]
    stars = [float(v) for v in ds["tau_star"].values]
    edge = sum(s in (taus[0], taus[-1]) for s in stars)
    lo, hi = float(ds["fid"].min()), float(ds["fid"].max())
    return (f"τ* per training seed: {', '.join(f'{s:g}' for s in stars)} "
            f"({edge} of {len(stars)} at an edge of the grid {taus[0]:g}-{taus[-1]:g}); "
            f"FID(X̂, X̃′_τ) spans {lo:.4g} to {hi:.4g} over the grid. SVQ changes "
            f"{100 * float(ds['token_change'].sel(tau=taus[0]).mean()):.1f} % of the tokens at "
            f"τ = {taus[0]:g} and {100 * float(ds['token_change'].sel(tau=taus[-1]).mean()):.1f} %"
            f" at τ = {taus[-1]:g} (mean over seeds).")
