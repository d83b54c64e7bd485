"""One style for every figure of the book, and the plots shared by several notebooks.

Figures that compare methods put every panel of a row on one colour scale (stated in the
colour bar), so that a reader never compares panels whose scales silently differ.
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import xarray as xr

METHOD_COLOURS = {
    "siren": "#d62728",
    "relu": "#7f7f7f",
    "tanh": "#2ca02c",
    "relu_pe": "#1f77b4",
    "rbf_relu": "#9467bd",
}


def use_style() -> None:
    """Apply the book's matplotlib style (readable at the book's column width)."""
    mpl.rcParams.update(
        {
            "figure.dpi": 110,
            "savefig.dpi": 150,
            "font.size": 9,
            "axes.titlesize": 9,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "legend.frameon": False,
            "image.interpolation": "nearest",
        }
    )


def label(method: str, labels: Mapping[str, str] | None = None) -> str:
    from freqbook.models.siren import MODEL_LABELS

    return (labels or MODEL_LABELS).get(method, method)


def mean_sd(da: xr.DataArray, dim: str = "seed", fmt: str = "{:.2f}") -> pd.Series:
    """``mean ± sd`` strings over ``dim`` (sd with ddof=1), skipping seeds that were not run.

    An entry with a single finite value reads ``"x (1 seed)"``.
    """
    out = {}
    other = [d for d in da.dims if d != dim][0]
    for key in da[other].values:
        values = da.sel({other: key}).values
        values = values[np.isfinite(values)]
        if values.size == 0:
            out[str(key)] = "not run"
        elif values.size == 1 and da.sizes[dim] > 1:
            out[str(key)] = fmt.format(values[0]) + " (1 seed)"
        elif values.size == 1:
            out[str(key)] = fmt.format(values[0])
        else:
            out[str(key)] = f"{fmt.format(values.mean())} ± {fmt.format(values.std(ddof=1))}"
    return pd.Series(out)


def learning_curves(
    curves: xr.DataArray,
    *,
    ax: plt.Axes | None = None,
    ylabel: str = "PSNR (dB)",
    labels: Mapping[str, str] | None = None,
) -> plt.Axes:
    """Mean over seeds with a ±1 sd band, one line per ``method``, against ``step``."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5.0, 3.2))
    steps = curves["step"].values + 1
    for method in curves["method"].values:
        c = curves.sel({"method": method})
        c = c.dropna("seed", how="all")  # seeds a profile did not run for this model
        mean = c.mean("seed").values
        colour = METHOD_COLOURS.get(str(method))
        n = c.sizes.get("seed", 1)
        name = label(str(method), labels) + (" (1 seed)" if n == 1 < curves.sizes["seed"] else "")
        ax.plot(steps, mean, label=name, color=colour, lw=1.5)
        if n > 1:
            sd = c.std("seed", ddof=1).values
            ax.fill_between(steps, mean - sd, mean + sd, color=colour, alpha=0.2, lw=0)
    ax.set_xlabel("Adam step")
    ax.set_ylabel(ylabel)
    ax.legend(loc="lower right")
    return ax


def _row_limits(values: np.ndarray, symmetric: bool) -> tuple[float, float]:
    hi = float(np.percentile(np.abs(values) if symmetric else values, 99.5))
    return (-hi, hi) if symmetric else (0.0, hi)


def image_derivative_grid(ds: xr.Dataset, labels: Mapping[str, str] | None = None) -> plt.Figure:
    """SIREN paper Fig. 1 layout: fitted image, gradient norm and Laplacian per model.

    Column 0 is the ground truth (its derivatives by finite differences); each row shares one
    colour scale, fixed by the ground truth's 99.5th percentile, so that panels compare fairly.
    """
    methods = [str(m) for m in ds["method"].values]
    ncol = len(methods) + 1
    fig, axes = plt.subplots(3, ncol, figsize=(1.75 * ncol + 0.6, 5.6), squeeze=False)
    rows = [
        ("fit", "target", "image", dict(cmap="gray", vmin=-1, vmax=1)),
        ("grad_norm", "target_grad_norm", "|∇f|", None),
        ("laplacian", "target_laplacian", "Δf", None),
    ]
    for r, (var, target_var, name, kw) in enumerate(rows):
        target = ds[target_var].values
        if kw is None:
            symmetric = var == "laplacian"
            vmin, vmax = _row_limits(target, symmetric)
            kw = dict(cmap="RdBu_r" if symmetric else "magma", vmin=vmin, vmax=vmax)
        panels = [("ground truth", target)] + [
            (label(m, labels), ds[var].sel({"method": m}).values) for m in methods
        ]
        for c, (title, img) in enumerate(panels):
            ax = axes[r, c]
            im = ax.imshow(img, **kw)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
            if r == 0:
                ax.set_title(title)
            if c == 0:
                ax.set_ylabel(name)
        fig.colorbar(im, ax=axes[r, :].tolist(), shrink=0.85, pad=0.01)
    return fig


def summary_frame(ds: xr.Dataset, columns: Mapping[str, tuple[str, str]]) -> pd.DataFrame:
    """Table of ``mean ± sd`` over seeds: ``columns`` maps header -> (variable, format)."""
    table = pd.DataFrame({head: mean_sd(ds[var], fmt=fmt) for head, (var, fmt) in columns.items()})
    table.index = [label(m) for m in table.index]
    table.index.name = "model"
    return table
