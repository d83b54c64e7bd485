"""When the mapper hurts (record ``nmvqtsg/failure``).

The paper's discussion (third-party summary, spec 1.2) says the mapper may not help when
synthetic samples are already close to the real ones. We show where that happens instead of
asserting it: the *same* trained mapper of each training seed is applied to inputs that are
increasingly close to the real distribution, and FID(Z_test, ·) is measured before and after:

``undertrained``  samples of the prior snapshot at ``undertrained_steps`` stage-2 steps;
``trained``       samples of the fully trained prior (the main page's generator);
``recon``         deterministic stage-1 reconstructions of training series;
``real``          training series themselves (disjoint from the test reference).

``fid_change_pct = 100 (after - before) / before``: negative = the mapper helps.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from freqbook.experiments.nmvqtsg.config import NMConfig
from freqbook.experiments.nmvqtsg.data import data_sha256, load_resplit
from freqbook.experiments.nmvqtsg.evaluation import features, sample, tau_search
from freqbook.experiments.nmvqtsg.training import _tensor, train_generator, train_mapper
from freqbook.metrics.generative import fid

SOURCES = ("undertrained", "trained", "recon", "real")
LABELS = {"undertrained": "under-trained prior", "trained": "trained prior",
          "recon": "stage-1 reconstructions", "real": "real series"}


def run(cfg: NMConfig, *, progress: bool | None = None) -> xr.Dataset:
    """FID before/after the mapper for each input source and training seed (draw: first)."""
    data = load_resplit(cfg.dataset)
    rocket = features(cfg)
    Z_test = rocket(data.X_test)
    S = len(cfg.seeds)
    before, after = np.full((S, len(SOURCES)), np.nan), np.full((S, len(SOURCES)), np.nan)
    for i, seed in enumerate(cfg.seeds):
        gen = train_generator(data, cfg, seed, progress)
        ts = tau_search(data, gen, cfg, seed, rocket)
        nm = train_mapper(data, gen, ts.tau_star, cfg, seed, progress)
        rng = np.random.default_rng(90_000 + seed)
        n = min(cfg.n_samples, len(data.X_train))
        X_real = _tensor(data.X_train[rng.choice(len(data.X_train), n, replace=False)])
        base = 1_000 * seed + 100 * cfg.draws[0]
        inputs = {"undertrained": sample(gen, cfg.n_samples, cfg, seed=base, under=True),
                  "trained": sample(gen, cfg.n_samples, cfg, seed=base),
                  "recon": gen.stage1.reconstruct(X_real),
                  "real": X_real}
        for k, src in enumerate(SOURCES):
            x = inputs[src]
            before[i, k] = fid(Z_test, rocket(x.numpy()))
            after[i, k] = fid(Z_test, rocket(nm(x).numpy()))
    return xr.Dataset(
        {"fid_before": (("seed", "source"), before), "fid_after": (("seed", "source"), after),
         "fid_change_pct": (("seed", "source"), 100 * (after - before) / before)},
        coords={"seed": list(cfg.seeds), "source": list(SOURCES)},
        attrs={"dataset": cfg.dataset, "undertrained_steps": cfg.undertrained_steps,
               "stage2_steps": cfg.stage2_steps})


def run_and_record(cfg: NMConfig, profile: str, *, progress: bool | None = None):
    """:func:`run` and save record ``nmvqtsg/failure``; returns ``(ds, path)``."""
    from freqbook.results import run_and_record as record

    return record(run, cfg, paper="nmvqtsg", experiment="failure", profile=profile,
                  progress=progress, data_sha256=lambda: data_sha256(cfg.dataset))


def plot(ds: xr.Dataset):
    """Left: FID before vs after per source (log scale); right: relative change per source."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9.0, 3.2))
    x = np.arange(ds.sizes["source"])
    for i, s in enumerate(ds["seed"].values):
        axes[0].plot(x - 0.1, ds["fid_before"].sel(seed=s), "o", color=f"C{i}", alpha=0.6)
        axes[0].plot(x + 0.1, ds["fid_after"].sel(seed=s), "s", color=f"C{i}", alpha=0.6)
        axes[1].plot(x, ds["fid_change_pct"].sel(seed=s), "o-", color=f"C{i}",
                     label=f"seed {int(s)}")
    names = [LABELS[str(s)] for s in ds["source"].values]
    for ax in axes:
        ax.set_xticks(x, names, rotation=20, fontsize=8)
    axes[0].set_yscale("log")
    axes[0].set_title("FID to test: before (o) / after (□) NM")
    axes[1].axhline(0, color="k", lw=0.8)
    axes[1].set_title("change of FID by the mapper (%)")
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    return fig


def reading(ds: xr.Dataset) -> str:
    """Markdown: mean change per source and where it turns positive."""
    parts = []
    for src in ds["source"].values:
        v = ds["fid_change_pct"].sel(source=src).values
        hurt = int((v > 0).sum())
        parts.append(f"{LABELS[str(src)]} {v.mean():+.1f} % (FID rose on {hurt} of {len(v)} seeds)")
    return "Mean change of FID by the mapper: " + "; ".join(parts) + "."
