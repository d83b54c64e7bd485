"""FID, IS and cFID before and after the neural mapper (record ``nmvqtsg/main``).

Spec ``papers/nmvqtsg.md`` 2.5 and tables A/B of 1.4. For every training seed (stages 1-3
trained once, cached) and every sampling draw: ``n_samples`` unconditional samples ``X̂`` and
their mapped version ``X̂_R = NM(X̂)``; FID(Z_test, Ẑ) and FID(Z_test, Ẑ_R) on ROCKET features,
IS of both from the book's FCN; ``per_class`` class-conditional samples per class, cFID = mean
over classes of the per-class FID. The record keeps ``seed`` (training) and ``draw`` (sampling)
dimensions, so the verdicts compare before and after *paired per training seed*.

Three ways to summarise a change of FID are recorded per seed, because the paper's "≈151 %"
average is not defined in anything read: the ratio ``before / after``, the relative reduction
``1 - after / before`` (at most 100 %), and ``(before - after) / after`` (unbounded).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from freqbook.experiments.nmvqtsg.config import NMConfig
from freqbook.experiments.nmvqtsg.data import data_sha256, load_resplit
from freqbook.experiments.nmvqtsg.evaluation import features, is_score, pca_2d, sample, tau_search
from freqbook.experiments.nmvqtsg.training import (
    _tensor,
    train_fcn,
    train_generator,
    train_mapper,
)
from freqbook.metrics.generative import class_fid, fid

STAGES = ("before", "after")
N_CURVES = 200


def run(cfg: NMConfig, *, progress: bool | None = None) -> xr.Dataset:
    """Train/load every stage per training seed and evaluate each sampling draw."""
    data = load_resplit(cfg.dataset)
    rocket = features(cfg)
    fcn = train_fcn(data, cfg, progress)
    Z_test = rocket(data.X_test)
    rng = np.random.default_rng(0)
    n_ref = min(cfg.n_samples, len(data.X_train))
    floor = fid(Z_test, rocket(data.X_train[rng.choice(len(data.X_train), n_ref, replace=False)]))
    K, S, D = data.n_classes, len(cfg.seeds), len(cfg.draws)
    fid_d = np.full((S, D, 2), np.nan)
    is_d = np.full((S, D, 2), np.nan)
    cfid_c = np.full((S, D, 2, K), np.nan)
    tau_star, recon, l1_final, l1_ident = (np.full(S, np.nan) for _ in range(4))
    hist_loss = hist_ident = None
    fig: dict[str, np.ndarray] = {}
    for i, seed in enumerate(cfg.seeds):
        gen = train_generator(data, cfg, seed, progress)
        ts = tau_search(data, gen, cfg, seed, rocket)
        nm = train_mapper(data, gen, ts.tau_star, cfg, seed, progress)
        tau_star[i] = ts.tau_star
        recon[i] = fid(Z_test, rocket(gen.stage1.reconstruct(_tensor(data.X_test)).numpy()))
        loss = np.asarray(nm.history["loss"])
        ident = np.asarray(nm.history["identity_l1"])
        tail = max(1, len(loss) // 10)
        l1_final[i], l1_ident[i] = loss[-tail:].mean(), ident[-tail:].mean()
        if hist_loss is None:
            hist_loss = np.full((S, len(loss)), np.nan)
            hist_ident = np.full((S, len(loss)), np.nan)
        hist_loss[i], hist_ident[i] = loss, ident
        for j, draw in enumerate(cfg.draws):
            base = 1_000 * seed + 100 * draw
            X_hat = sample(gen, cfg.n_samples, cfg, seed=base)
            X_map = nm(X_hat)
            Z = {"before": rocket(X_hat.numpy()), "after": rocket(X_map.numpy())}
            for k, stage in enumerate(STAGES):
                fid_d[i, j, k] = fid(Z_test, Z[stage])
            is_d[i, j, 0] = is_score(fcn.probs(X_hat), base)
            is_d[i, j, 1] = is_score(fcn.probs(X_map), base)
            cond = {c: sample(gen, cfg.per_class, cfg, seed=base + 1 + c, classes=c)
                    for c in range(K)}
            for k, stage in enumerate(STAGES):
                Zc = {c: rocket((x if stage == "before" else nm(x)).numpy())
                      for c, x in cond.items()}
                per = class_fid(Z_test, data.y_test, Zc)
                cfid_c[i, j, k] = [per[c] for c in range(K)]
            if i == 0 and j == 0:
                n = min(N_CURVES, cfg.n_samples, len(data.X_test))
                fig = {"curves_test": data.X_test[:n, 0], "curves_gen": X_hat[:n, 0].numpy(),
                       "curves_mapped": X_map[:n, 0].numpy()}
                pcs = pca_2d(Z_test, Z["before"], Z["after"])
                fig |= {"pca_test": pcs[0], "pca_gen": pcs[1], "pca_mapped": pcs[2]}
    return _dataset(cfg, data, fid_d, is_d, cfid_c, tau_star, recon, l1_final, l1_ident,
                    hist_loss, hist_ident, fig, floor, fcn)


def _pad(a: np.ndarray, n: int) -> np.ndarray:
    out = np.full((n, *a.shape[1:]), np.nan)
    out[: len(a)] = a
    return out


def _dataset(cfg, data, fid_d, is_d, cfid_c, tau_star, recon, l1_final, l1_ident, hist_loss,
             hist_ident, fig, floor, fcn) -> xr.Dataset:
    cfid_d = np.nanmean(cfid_c, axis=-1)
    fid_m, is_m, cfid_m = (a.mean(axis=1) for a in (fid_d, is_d, cfid_d))

    def changes(m: np.ndarray, lower_better: bool = True) -> dict[str, np.ndarray]:
        b, a = m[:, 0], m[:, 1]
        if lower_better:
            return {"ratio": b / a, "reduction_pct": 100 * (1 - a / b),
                    "gain_pct": 100 * (b - a) / a}
        return {"ratio": a / b, "gain_pct": 100 * (a - b) / b}

    n_pts = max(len(v) for k, v in fig.items() if k.startswith("pca"))
    vars_: dict[str, tuple] = {
        "fid_draw": (("seed", "draw", "stage"), fid_d),
        "is_draw": (("seed", "draw", "stage"), is_d),
        "cfid_draw": (("seed", "draw", "stage"), cfid_d),
        "cfid_class": (("seed", "draw", "stage", "cls"), cfid_c),
        "fid": (("seed", "stage"), fid_m),
        "is_score": (("seed", "stage"), is_m),
        "cfid": (("seed", "stage"), cfid_m),
        "tau_star": (("seed",), tau_star),
        "fid_recon": (("seed",), recon),
        "mapper_l1": (("seed",), l1_final),
        "identity_l1": (("seed",), l1_ident),
        "mapper_loss": (("seed", "step"), hist_loss),
        "mapper_identity": (("seed", "step"), hist_ident),
        "fid_floor": ((), floor),
        "fcn_accuracy": ((), fcn.test_accuracy),
        "fcn_chance": ((), fcn.chance),
        "test_count": (("cls",), np.bincount(data.y_test, minlength=data.n_classes)),
    }
    for name, m, lower in (("fid", fid_m, True), ("cfid", cfid_m, True), ("is", is_m, False)):
        for k, v in changes(m, lower).items():
            vars_[f"{name}_{k}"] = (("seed",), v)
    for k in ("curves_test", "curves_gen", "curves_mapped"):
        vars_[k] = (("example", "time"), _pad(fig[k], N_CURVES))
    for k in ("pca_test", "pca_gen", "pca_mapped"):
        vars_[k] = (("point", "pc"), _pad(fig[k], n_pts))
    return xr.Dataset(vars_, coords={
        "seed": list(cfg.seeds), "draw": list(cfg.draws), "stage": list(STAGES),
        "cls": list(data.classes), "step": np.arange(hist_loss.shape[1]),
        "example": np.arange(N_CURVES), "time": np.arange(data.length), "point": np.arange(n_pts),
        "pc": [1, 2]}, attrs={"dataset": cfg.dataset})


def run_and_record(cfg: NMConfig, profile: str, *, progress: bool | None = None):
    """:func:`run` and save record ``nmvqtsg/main``; returns ``(ds, path)``."""
    from freqbook.results import run_and_record as record

    return record(run, cfg, paper="nmvqtsg", experiment="main", profile=profile,
                  progress=progress, data_sha256=lambda: data_sha256(cfg.dataset))


# ------------------------------------------------------------------------------ views
def summary_table(ds: xr.Dataset):
    """Mean ± sd over training seeds (each the mean of its draws) before/after the mapper."""
    import pandas as pd

    rows = {}
    for var, label in (("fid", "FID (lower better)"), ("is_score", "IS (higher better)"),
                       ("cfid", "cFID (lower better)")):
        row = {}
        for stage in STAGES:
            v = ds[var].sel(stage=stage).values
            row[stage] = f"{np.mean(v):.4g} ± {np.std(v, ddof=1) if len(v) > 1 else 0:.2g}"
        rows[label] = row
    return pd.DataFrame(rows).T.rename(columns={"before": "TimeVQVAE", "after": "+ NM"})


def change_table(ds: xr.Dataset):
    """Per training seed: FID before, after, ratio, relative reduction and (before-after)/after."""
    import pandas as pd

    cols = {"FID before": ds["fid"].sel(stage="before").values,
            "FID after": ds["fid"].sel(stage="after").values,
            "before / after": ds["fid_ratio"].values,
            "1 - after/before (%)": ds["fid_reduction_pct"].values,
            "(before - after)/after (%)": ds["fid_gain_pct"].values,
            "τ*": ds["tau_star"].values}
    frame = pd.DataFrame(cols, index=[f"seed {int(s)}" for s in ds["seed"].values])
    frame.loc["mean"] = frame.mean()
    return frame


def plot_paired(ds: xr.Dataset):
    """FID, IS, cFID before -> after, one line per training seed (draws averaged), draws as dots."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(9.6, 3.0))
    for ax, var, draw_var, title in ((axes[0], "fid", "fid_draw", "FID ↓"),
                                     (axes[1], "is_score", "is_draw", "IS ↑"),
                                     (axes[2], "cfid", "cfid_draw", "cFID ↓")):
        for i, s in enumerate(ds["seed"].values):
            ax.plot([0, 1], ds[var].sel(seed=s).values, marker="o", color=f"C{i}",
                    label=f"seed {int(s)}")
            for d in ds["draw"].values:
                ax.plot([0.05, 0.95], ds[draw_var].sel(seed=s, draw=d).values, ".",
                        color=f"C{i}", alpha=0.4)
        ax.set_xticks([0, 1], ["TimeVQVAE", "+ NM"])
        ax.set_title(title)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_data_space(ds: xr.Dataset):
    """Overlaid curves (alpha 0.1, y ±5) of test series, generated and mapped samples."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(9.6, 2.8), sharey=True)
    t = ds["time"].values
    for ax, var, title in ((axes[0], "curves_test", "test series"),
                           (axes[1], "curves_gen", "TimeVQVAE samples X̂"),
                           (axes[2], "curves_mapped", "mapped NM(X̂)")):
        for c in ds[var].values:
            if np.isfinite(c).all():
                ax.plot(t, c, color="C0", alpha=0.1, lw=0.8)
        ax.set_ylim(-5, 5)
        ax.set_title(title)
        ax.set_xlabel("time step")
    fig.tight_layout()
    return fig


def plot_feature_space(ds: xr.Dataset):
    """PCA (fitted on the test features) of test vs generated and test vs mapped."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(8.0, 3.4), sharex=True, sharey=True)
    for ax, var, title in ((axes[0], "pca_gen", "TimeVQVAE"), (axes[1], "pca_mapped", "+ NM")):
        ax.scatter(*ds["pca_test"].values.T, s=5, alpha=0.2, color="k", label="test")
        ax.scatter(*ds[var].values.T, s=5, alpha=0.2, color="C1", label=title)
        ax.set_title(f"ROCKET PCA: test vs {title}")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_mapper_loss(ds: xr.Dataset):
    """Mapper L1 per step (smoothed) against the identity baseline L1(x̃′, x)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.8, 3.0))
    k = max(1, ds.sizes["step"] // 50)
    for i, s in enumerate(ds["seed"].values):
        for var, ls in (("mapper_loss", "-"), ("mapper_identity", ":")):
            y = np.convolve(ds[var].sel(seed=s).values, np.ones(k) / k, mode="valid")
            ax.plot(y, ls, color=f"C{i}", lw=1)
    ax.set_xlabel("mapper step")
    ax.set_ylabel("L1 (solid: NM(x̃′) vs x; dotted: x̃′ vs x)")
    fig.tight_layout()
    return fig


def reading(ds: xr.Dataset) -> str:
    """Markdown reading: paired changes per seed and the definitions of the average."""
    b, a = ds["fid"].sel(stage="before").values, ds["fid"].sel(stage="after").values
    lower = int((a < b).sum())
    n = len(b)
    ib, ia = ds["is_score"].sel(stage="before").values, ds["is_score"].sel(stage="after").values
    cb, ca = ds["cfid"].sel(stage="before").values, ds["cfid"].sel(stage="after").values
    return (
        f"The mapper lowered FID on {lower} of {n} training seeds (mean {b.mean():.4g} → "
        f"{a.mean():.4g}; ratio before/after {ds['fid_ratio'].mean().item():.3f}, relative "
        f"reduction {ds['fid_reduction_pct'].mean().item():.1f} %, (before − after)/after "
        f"{ds['fid_gain_pct'].mean().item():.1f} %). IS {ib.mean():.3f} → {ia.mean():.3f} "
        f"(FCN test accuracy {float(ds['fcn_accuracy']):.1f} %, majority class "
        f"{float(ds['fcn_chance']):.1f} %); cFID {cb.mean():.4g} → {ca.mean():.4g}. Noise floor "
        f"FID(test, train) = {float(ds['fid_floor']):.4g}; FID(test, stage-1 reconstructions) = "
        f"{ds['fid_recon'].mean().item():.4g}. Mapper L1 at the end of training "
        f"{ds['mapper_l1'].mean().item():.3f} vs the identity map's "
        f"{ds['identity_l1'].mean().item():.3f}."
    )
