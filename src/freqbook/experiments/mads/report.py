"""Readings and figures of the MADS pages, computed from the records (never typed numbers)."""

from __future__ import annotations

import numpy as np
import xarray as xr

from freqbook.experiments.mads.common import LABELS, METRICS


def _m(da: xr.DataArray) -> float:
    return float(da.mean("seed", skipna=True)) if "seed" in da.dims else float(da)


def _label(name) -> str:
    return LABELS.get(str(name), str(name))


def plot_examples(ds: xr.Dataset, channels: int = 3, title: str = ""):
    """Observed points, held-out truth and the imputations of each ``ex_method``."""
    import matplotlib.pyplot as plt

    n_ex = ds.sizes["ex"]
    ch = min(channels, ds.sizes["channel"])
    fig, axes = plt.subplots(n_ex, ch, figsize=(3.2 * ch, 2.2 * n_ex), squeeze=False,
                             sharex="row")
    for e in range(n_ex):
        t = ds["ex_times"].values[e]
        for c in range(ch):
            ax = axes[e, c]
            truth = ds["ex_truth"].values[e, :, c]
            inp = ds["ex_input"].values[e, :, c].astype(bool)
            rem = (ds["ex_removed"].values[e, :, c].astype(bool) if "ex_removed" in ds
                   else ~inp & np.isfinite(truth))
            for m in ds["ex_method"].values:
                ax.plot(t, ds["ex_pred"].sel(ex_method=m).values[e, :, c], lw=1.2,
                        label=_label(m))
            ax.plot(t[inp], truth[inp], "k.", ms=4, label="observed")
            ax.plot(t[rem], truth[rem], "rx", ms=4, label="held out (truth)")
            if e == 0:
                ax.set_title(f"channel {c}", fontsize=9)
    axes[0, -1].legend(fontsize=7, loc="best")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def real_reading(ds: xr.Dataset) -> str:
    """Where MADS stands on each real dataset, from the ``real`` record."""
    parts = []
    n = ds.sizes["seed"]
    for d in ds["dataset"].values:
        mse = ds["error"].sel({"dataset": d, "metric": "mse"}).mean("seed")
        order = [str(m) for m in mse.sortby(mse)["method"].values]
        rank = order.index("mads") + 1 if "mads" in order else None
        low = float(mse.sel({"method": order[0]}))
        text = (f"**{d}**: lowest MSE {_label(order[0])} ({low:.3f})"
                f"; MADS {float(mse.sel({'method': 'mads'})):.3f}, rank {rank} of {len(order)}")
        if "gain_pct" in ds:
            g = ds["gain_pct"].sel({"dataset": d})
            text += (" - MADS vs the best baseline of each seed: "
                     + ", ".join(f"{k.upper() if k != 'max' else 'Max'} "
                                 f"{_m(g.sel(metric=k)):+.0f} %" for k in METRICS))
        if "train_mse" in ds:
            text += f"; MADS training-window MSE {_m(ds['train_mse'].sel(dataset=d)):.3f}"
        parts.append(text + ".")
    return (f"Measured in this build ({n} seed{'s' if n > 1 else ''}, missing rate "
            f"{ds.attrs.get('rate')}; a positive % means MADS has the lower error): "
            + " ".join(parts))


def synthetic_reading(ds: xr.Dataset) -> str:
    """Average ranks and where MADS ranks first, from the ``synthetic`` record."""
    avg = ds["avg_rank"].mean("seed")
    order = [str(m) for m in avg.sortby(avg)["method"].values]
    mean_rank = ds["rank"].mean("seed")
    wins = [str(c) for c in ds["config"].values
            if "mads" in ds["method"].values
            and float(mean_rank.sel({"config": c, "method": "mads"})) == float(
                mean_rank.sel(config=c).min())]
    return (f"Measured in this build: average rank (by MSE, {ds.sizes['seed']} seeds) - "
            + ", ".join(f"{_label(m)} {float(avg.sel({'method': m})):.2f}" for m in order)
            + f". MADS has the best mean rank on {len(wins)} of {ds.sizes['config']} "
            f"configurations ({', '.join(wins) or 'none'}).")


def lambda_reading(ds: xr.Dataset) -> str:
    """Regularisation sweep and training-window count, from the ``investigate`` record."""
    mse = ds["lambda_error"].sel(metric="mse").mean("seed")
    fit = ds["lambda_train_mse"].mean("seed")
    best = float(mse.idxmin("lambda_w"))
    ref = ds["reference_error"].sel(metric="mse").mean("seed")
    n_mse = ds["n_error"].sel(metric="mse").mean("seed")
    return (
        "Measured in this build (Human Activity, MSE mean over seeds): "
        + ", ".join(f"λ_w = {float(lam):g}: test {float(mse.sel(lambda_w=lam)):.3f} / "
                    f"train {float(fit.sel(lambda_w=lam)):.3f}" for lam in mse["lambda_w"].values)
        + f"; best λ_w = {best:g}. Training windows: "
        + ", ".join(f"{int(n)}: {float(n_mse.sel(n_train=n)):.3f}"
                    for n in n_mse["n_train"].values)
        + ". References without training: "
        + ", ".join(f"{_label(r)} {float(ref.sel(reference=r)):.3f}"
                    for r in ref["reference"].values)
        + "."
    )


def variant_reading(ds: xr.Dataset) -> str:
    """Modulator ablation, from the ``investigate`` record."""
    mse = ds["variant_error"].sel(metric="mse").mean("seed")
    fit = ds["variant_train_mse"].mean("seed")
    return (f"Measured in this build ({ds.attrs.get('synthetic')}, test MSE / training MSE, mean "
            "over seeds): " + "; ".join(
                f"{v}: {float(mse.sel(variant=v)):.3f} / {float(fit.sel(variant=v)):.3f}"
                for v in mse["variant"].values) + ".")


def rate_reading(ds: xr.Dataset) -> str:
    """MSE vs missing rate and block missingness, from the ``investigate`` record."""
    mse = ds["rate_error"].sel(metric="mse").mean("seed")
    best = {float(r): _label(mse.sel(rate=r).idxmin("method").item()) for r in mse["rate"].values}
    blk = ds["block_error"].sel(metric="mse").mean("seed")
    return ("Measured in this build: lowest MSE per missing rate - "
            + ", ".join(f"{r:g}: {m}" for r, m in best.items())
            + "; with block missingness (extension): "
            + ", ".join(f"{_label(m)} {float(blk.sel({'method': m})):.3f}"
                        for m in blk["method"].values) + ".")


def plot_lines(da: xr.DataArray, x: str, hue: str | None, ylabel: str, logx: bool = False):
    """Mean ± sd over seeds of ``da`` against ``x``, one line per ``hue`` label."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 3.2))
    groups = [None] if hue is None else list(da[hue].values)
    for g in groups:
        sub = da if g is None else da.sel({hue: g})
        mean, sd = sub.mean("seed"), sub.std("seed")
        xs = np.asarray(sub[x].values, dtype=float)
        if logx:
            xs = np.where(xs > 0, xs, np.nan)
        ax.errorbar(xs, mean.values, yerr=sd.values, marker="o", capsize=3,
                    label=None if g is None else _label(g))
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(x)
    ax.set_ylabel(ylabel)
    if hue is not None:
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
