"""Tables and figures of the CBD notebooks (record -> pandas / matplotlib), and paper values.

Paper values are read from the chapter's claims files (``data/claims/cbd/*.yaml``) so that a
number quoted in a table and the one judged by the comparator are the same.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from freqbook.experiments.cbd.common import PAPER_NAMES

ABBREV = {"FingerMovements": "FM", "ArticularyWordRecognition": "AWR", "ECG5000": "ECG5000"}


def paper_value(claim_id: str) -> tuple[float | None, float | None]:
    """``(value, std)`` of a CBD claim (``(None, None)`` when it has no number)."""
    from freqbook.results.claims import load_claims

    for c in load_claims("cbd"):
        if c.id == claim_id:
            return c.value, c.std
    return None, None


def _ms(values: np.ndarray) -> str:
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return "not run"
    if v.size == 1:
        return f"{v[0]:.2f} (n=1)"
    return f"{v.mean():.2f} ± {v.std(ddof=1):.2f} (n={v.size})"


def _paper(claim_id: str) -> str:
    value, std = paper_value(claim_id)
    if value is None:
        return "—"
    return f"{value:.2f} ± {std:.2f}" if std is not None else f"{value:.2f}"


def table1_frame(ds: xr.Dataset, protocol: str = "lp") -> pd.DataFrame:
    """Ours (mean ± sd over seeds) next to the paper, one row per dataset.

    ``protocol``: ``"lp"`` (linear probe) or ``"ft"`` (fine-tune, validation-chosen epoch).
    """
    var = {"lp": "lp_acc", "ft": "ft_acc"}[protocol]
    tag = protocol.upper()
    rows = {}
    for name in ds["dataset"].values:
        name = str(name)
        row = {f"{m} (ours)": _ms(ds[var].sel({"dataset": name, "method": m}).values)
               for m in ("mtm", "cbd") if m in ds["method"].values}
        short = ABBREV.get(name)
        row["CBD (paper)"] = _paper(f"T1-{tag}-{short}-cbd") if short else "not in paper"
        row["TimeMAE (paper)"] = _paper(f"T1-{tag}-{short}-timemae") if short else "not in paper"
        if protocol == "lp":
            row["untrained encoder + probe"] = _ms(ds["random_lp_acc"].sel(dataset=name).values)
            row["MiniRocket (ours)"] = _ms(ds["minirocket_acc"].sel(dataset=name).values)
            row["majority class"] = f"{float(ds['chance'].sel(dataset=name)):.2f}"
        rows[PAPER_NAMES.get(name, name)] = row
    return pd.DataFrame(rows).T.rename(columns={"mtm (ours)": "vanilla MTM (ours)",
                                                 "cbd (ours)": "CBD (ours)"})


def gain_frame(ds: xr.Dataset) -> pd.DataFrame:
    """CBD minus MTM per dataset and protocol: mean, sd over seeds, and how many seeds gain."""
    rows = {}
    for name in ds["dataset"].values:
        row = {}
        for var, tag in (("lp_acc", "LP"), ("ft_acc", "FT")):
            diff = (ds[var].sel({"dataset": name, "method": "cbd"})
                    - ds[var].sel({"dataset": name, "method": "mtm"})).values
            diff = diff[np.isfinite(diff)]
            row[f"{tag} gain (points)"] = _ms(diff) if diff.size else "not run"
            row[f"{tag} seeds with gain"] = f"{int((diff > 0).sum())}/{diff.size}"
        rows[PAPER_NAMES.get(str(name), str(name))] = row
    return pd.DataFrame(rows).T


def plot_loss_curves(ds: xr.Dataset):
    """Pre-training loss per epoch (mean over seeds), one panel per dataset, log scale."""
    import matplotlib.pyplot as plt

    names = [str(n) for n in ds["dataset"].values]
    fig, axes = plt.subplots(1, len(names), figsize=(3.4 * len(names), 2.8), squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        for method in ds["method"].values:
            curve = ds["loss"].sel({"dataset": name, "method": method}).mean("seed")
            ax.plot(ds["epoch"], curve, label={"mtm": "vanilla MTM", "cbd": "CBD"}[str(method)])
        ax.set_yscale("log")
        ax.set_title(PAPER_NAMES.get(name, name), fontsize=9)
        ax.set_xlabel("epoch")
    axes[0, 0].set_ylabel("pre-training loss (own objective)")
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot_accuracy(ds: xr.Dataset):
    """Linear-probe accuracy per seed (dots) and mean (bar) for each method and anchor."""
    import matplotlib.pyplot as plt

    names = [str(n) for n in ds["dataset"].values]
    fig, axes = plt.subplots(1, len(names), figsize=(3.4 * len(names), 2.9), squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        series = {"untrained": ds["random_lp_acc"].sel(dataset=name).values,
                  "MTM": ds["lp_acc"].sel({"dataset": name, "method": "mtm"}).values,
                  "CBD": ds["lp_acc"].sel({"dataset": name, "method": "cbd"}).values,
                  "MiniRocket": ds["minirocket_acc"].sel(dataset=name).values}
        for i, vals in enumerate(series.values()):
            ax.bar(i, np.nanmean(vals), color=f"C{i}", alpha=0.5)
            ax.plot(np.full(vals.size, i), vals, "k.", ms=4)
        ax.axhline(float(ds["chance"].sel(dataset=name)), color="k", ls=":", lw=1)
        ax.set_xticks(range(len(series)), list(series), rotation=30, fontsize=7)
        lo = np.nanmin(np.concatenate(list(series.values())))
        ax.set_ylim(max(0.0, lo - 10), 100)
        ax.set_title(PAPER_NAMES.get(name, name), fontsize=9)
    axes[0, 0].set_ylabel("test accuracy (%)\n(LP; dotted: majority class)")
    fig.tight_layout()
    return fig
