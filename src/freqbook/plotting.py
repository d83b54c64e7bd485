"""One style for every figure of the book, and the plots shared by several notebooks.

Figures that compare methods put every panel of a row on one colour scale (stated in the
colour bar), so that a reader never compares panels whose scales silently differ.

The style is made for teaching (figures are read at the book's ~700 px column and reused on
slides):

* one colour-blind-safe palette (Okabe & Ito's eight colours); the *target* (ground truth) is
  always drawn in black (:data:`TARGET_COLOUR`, :func:`plot_target`) and no fitted curve is ever
  near-black (:func:`is_near_black`);
* no text below :data:`MIN_FONT_PT` points; legends where they hide no data (``loc="best"``, or
  below the axes with :func:`legend_below`);
* strips of panels wrap to at most :data:`MAX_PANELS_PER_ROW` per row (:func:`panel_grid`);
* :func:`check_legibility` lists what breaks these rules in a finished figure, and
  :func:`save_figure` writes it as PNG + SVG with a JSON sidecar (caption, alt text, the record
  it was drawn from) under ``build/figures/<chapter>/<page>-fig<number>.*`` for the book's
  "Figures" page.
"""

from __future__ import annotations

import json
import os
import re
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib as mpl
import matplotlib.colors as mcolors
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import xarray as xr

#: Okabe & Ito (2008) colour-blind-safe palette, without its black (reserved for the target)
PALETTE = (
    "#D55E00",  # vermillion
    "#0072B2",  # blue
    "#009E73",  # bluish green
    "#E69F00",  # orange
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow (thin lines only: low contrast on white)
)
#: the target / ground truth is black; fitted curves never are
TARGET_COLOUR = "#000000"
TARGET_LABELS = ("target", "ground truth", "signal", "reference", "exact")
METHOD_COLOURS = {
    "siren": PALETTE[0],
    "relu": PALETTE[1],
    "tanh": PALETTE[2],
    "relu_pe": PALETTE[3],
    "rbf_relu": PALETTE[4],
    "winner": PALETTE[3],
    "finer": PALETTE[5],
    "wire": PALETTE[4],
    "gauss": PALETTE[2],
}
#: smallest font size (points) allowed in a figure
MIN_FONT_PT = 8.0
#: most panels side by side in one row at page width
MAX_PANELS_PER_ROW = 3
#: width of the book's text column in inches at the style's dpi (about 700 px)
PAGE_WIDTH_IN = 6.4
#: relative luminance under which a colour counts as near-black
NEAR_BLACK_LUMINANCE = 0.06


def use_style() -> None:
    """Apply the book's matplotlib style (readable at the book's column width)."""
    mpl.rcParams.update(
        {
            "figure.dpi": 110,
            "savefig.dpi": 150,
            "savefig.bbox": "tight",
            "svg.fonttype": "none",  # text stays text in the SVG (searchable, editable)
            "font.size": 9,
            "axes.titlesize": 9,
            "axes.labelsize": 9,
            "xtick.labelsize": 8,
            "ytick.labelsize": 8,
            "legend.fontsize": 8,
            "figure.titlesize": 10,
            "axes.prop_cycle": mpl.cycler(color=list(PALETTE)),
            "lines.linewidth": 1.6,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "legend.frameon": True,
            "legend.framealpha": 0.85,
            "legend.edgecolor": "none",
            "legend.loc": "best",
            "image.interpolation": "nearest",
        }
    )


def colour(method: str, index: int = 0) -> str:
    """The colour of ``method`` (else the ``index``-th palette colour); never near-black."""
    return METHOD_COLOURS.get(str(method).lower(), PALETTE[index % len(PALETTE)])


def is_near_black(c: Any) -> bool:
    """True when a matplotlib colour's relative luminance is below :data:`NEAR_BLACK_LUMINANCE`."""
    r, g, b = (
        ((v / 12.92) if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4)
        for v in mcolors.to_rgb(c)
    )
    return 0.2126 * r + 0.7152 * g + 0.0722 * b < NEAR_BLACK_LUMINANCE


def plot_target(ax: plt.Axes, *args: Any, label: str = "target", **kwargs: Any) -> list:
    """Draw the target (ground truth) in black, under the fits (``zorder`` 1)."""
    kwargs.setdefault("lw", 1.2)
    kwargs.setdefault("zorder", 1)
    return ax.plot(*args, color=TARGET_COLOUR, label=label, **kwargs)


def legend_below(ax: plt.Axes, ncol: int | None = None, **kwargs: Any) -> Any:
    """A legend centred below the axes, outside the data (use when ``best`` still overlaps)."""
    handles, labels = ax.get_legend_handles_labels()
    ncol = ncol or min(len(labels), 3) or 1
    return ax.legend(
        handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=ncol,
        frameon=False, **kwargs,
    )


def place_legend(ax: plt.Axes, **kwargs: Any) -> Any:
    """``loc="best"`` when that box leaves every data point visible, else below the axes."""
    leg = ax.legend(loc="best", **kwargs)
    fig = ax.figure
    fig.canvas.draw()
    if _legend_overlaps(ax, fig.canvas.get_renderer()):
        leg.remove()
        leg = legend_below(ax, **kwargs)
    return leg


def panel_grid(
    n: int,
    *,
    ncols: int = MAX_PANELS_PER_ROW,
    panel: tuple[float, float] = (2.0, 1.8),
    **kwargs: Any,
) -> tuple[plt.Figure, list[plt.Axes]]:
    """``n`` panels wrapped to at most ``ncols`` per row; unused cells are removed.

    Returns the figure and the ``n`` axes in reading order.
    """
    if n < 1:
        raise ValueError(f"panel_grid needs at least one panel, got {n}")
    ncols = max(1, min(ncols, MAX_PANELS_PER_ROW, n))
    nrows = -(-n // ncols)
    width = min(PAGE_WIDTH_IN, panel[0] * ncols + 0.4)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(width, panel[1] * nrows + 0.3), squeeze=False, **kwargs
    )
    flat = list(axes.ravel())
    for ax in flat[n:]:
        fig.delaxes(ax)
    return fig, flat[:n]


def _texts(fig: plt.Figure) -> list[Any]:
    return [t for t in fig.findobj(mpl.text.Text) if t.get_visible() and t.get_text().strip()]


def _legend_overlaps(ax: plt.Axes, renderer: Any) -> bool:
    """Whether the axes' legend box covers any plotted data point (lines and scatter)."""
    leg = ax.get_legend()
    if leg is None or not leg.get_visible():
        return False
    box = leg.get_window_extent(renderer)
    axbox = ax.get_window_extent(renderer)
    if not box.overlaps(axbox):
        return False  # legend outside the axes
    for line in ax.get_lines():
        if not line.get_visible():
            continue
        xy = line.get_xydata()
        if xy.size == 0:
            continue
        pts = line.get_transform().transform(np.asarray(xy, dtype=float))
        pts = pts[np.isfinite(pts).all(axis=1)]
        if len(pts) > 1:  # sample the segments too, not just the vertices
            t = np.linspace(0.0, 1.0, 8)[:, None, None]
            pts = (pts[:-1][None] * (1 - t) + pts[1:][None] * t).reshape(-1, 2)
        inside = (
            (pts[:, 0] > box.x0) & (pts[:, 0] < box.x1)
            & (pts[:, 1] > box.y0) & (pts[:, 1] < box.y1)
        )
        if inside.any():
            return True
    for coll in ax.collections:
        offsets = getattr(coll, "get_offsets", lambda: np.empty((0, 2)))()
        if len(offsets) == 0 or isinstance(coll, mpl.collections.PolyCollection):
            continue
        pts = coll.get_offset_transform().transform(np.asarray(offsets, dtype=float))
        if (
            (pts[:, 0] > box.x0) & (pts[:, 0] < box.x1)
            & (pts[:, 1] > box.y0) & (pts[:, 1] < box.y1)
        ).any():
            return True
    return False


def _columns_per_row(fig: plt.Figure) -> int:
    """Most data panels (axes that are not colour bars) sharing one row of the figure."""
    rows: dict[tuple[float, float], int] = {}
    for ax in fig.axes:
        if not ax.get_visible() or ax.get_label() == "<colorbar>":
            continue
        pos = ax.get_position()
        key = (round(pos.y0, 2), round(pos.y1, 2))
        rows[key] = rows.get(key, 0) + 1
    return max(rows.values(), default=0)


def check_legibility(fig: plt.Figure) -> list[str]:
    """Problems a reader would meet in ``fig``; an empty list when it follows the style.

    Checks: text smaller than :data:`MIN_FONT_PT`; a legend box over plotted data; a line that
    is not the target but is drawn near-black; more than :data:`MAX_PANELS_PER_ROW` panels in
    one row.
    """
    problems: list[str] = []
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    small = sorted({round(t.get_fontsize(), 1) for t in _texts(fig)
                    if t.get_fontsize() < MIN_FONT_PT})
    if small:
        problems.append(f"text smaller than {MIN_FONT_PT:g} pt: {', '.join(map(str, small))} pt")
    for i, ax in enumerate(fig.axes):
        name = ax.get_title() or f"panel {i + 1}"
        if _legend_overlaps(ax, renderer):
            problems.append(f"{name}: legend covers data (use loc='best' or legend_below)")
        for line in ax.get_lines():
            lab = str(line.get_label()).lower()
            if lab.startswith("_") or any(t in lab for t in TARGET_LABELS):
                continue
            if is_near_black(line.get_color()):
                problems.append(f"{name}: line {line.get_label()!r} is near-black like a target")
    cols = _columns_per_row(fig)
    if cols > MAX_PANELS_PER_ROW:
        problems.append(
            f"{cols} panels in one row (wrap to at most {MAX_PANELS_PER_ROW}: panel_grid)"
        )
    return problems


def figures_root() -> Path:
    """``$FREQBOOK_FIGURES``, else ``<checkout>/build/figures``, else ``./freqbook-figures``."""
    from freqbook import provenance

    env = os.environ.get("FREQBOOK_FIGURES")
    if env:
        return Path(env).expanduser()
    root = provenance.repo_root()
    return root / "build" / "figures" if root is not None else Path.cwd() / "freqbook-figures"


def figure_label(chapter: str, page: str, number: int) -> str:
    """The figure's stable label (MyST target / HTML anchor), e.g. ``fig-siren-02-1``."""
    prefix = page.split("-")[0]
    return f"fig-{chapter}-{prefix}-{number}"


def default_alt(fig: plt.Figure) -> str:
    """A plain description of ``fig``'s panels: titles, axes and legend entries."""
    parts = []
    axes = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    for ax in axes:
        bits = [ax.get_title() or "panel"]
        if ax.images:
            bits.append("image")
        x, y = ax.get_xlabel(), ax.get_ylabel()
        if x or y:
            bits.append(f"{y or 'value'} against {x or 'x'}")
        labels = [t for t in ax.get_legend_handles_labels()[1] if not t.startswith("_")]
        if labels:
            bits.append("lines: " + ", ".join(labels))
        parts.append(" — ".join(bits))
    return f"Figure with {len(axes)} panel(s): " + "; ".join(parts)


def _as_label(record: str | os.PathLike[str] | None) -> str | None:
    if record is None:
        return None
    text = str(record)
    if os.sep in text or "/" in text:
        from freqbook.results.record import record_label

        return record_label(text)
    return text


def save_figure(
    fig: plt.Figure,
    chapter: str,
    page: str,
    number: int,
    caption: str,
    record: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
    *,
    alt: str | None = None,
    root: Path | None = None,
    show: bool = True,
) -> dict[str, Any]:
    """Write ``fig`` as ``<page>-fig<number>.png`` and ``.svg`` with a JSON sidecar.

    Parameters
    ----------
    fig
        The finished figure.
    chapter, page
        Chapter key and notebook stem, e.g. ``"siren"``, ``"02-activation-statistics"``.
    number
        The figure's number on its page (1, 2, ...): names, label and anchor derive from it and
        never from the content, so they survive rebuilds.
    caption
        One or two sentences (MyST: ``$...$`` maths allowed) that say what the figure shows.
    record
        The result record(s) it was drawn from (path or label); pages and sidecars hold labels
        such as ``cpu/siren/activations.nc``, never absolute paths.
    alt
        Alt text for screen readers (default: titles, axes and legend entries of the panels).
    root
        Output folder (default :func:`figures_root`); files go to ``<root>/<chapter>/``.
    show
        Display the figure in the notebook with the caption, label and alt text attached (the
        book's staging turns them into a numbered, captioned figure) and close it.

    Returns
    -------
    dict
        The sidecar: ``chapter, page, number, label, caption, alt, records, files, legibility``
        (``legibility`` lists :func:`check_legibility` problems; each also warns).
    """
    if not re.fullmatch(r"[a-z0-9_-]+", chapter) or not re.fullmatch(r"[A-Za-z0-9_.-]+", page):
        raise ValueError(f"save_figure: bad chapter/page {chapter!r}/{page!r} (use the keys)")
    if int(number) < 1:
        raise ValueError(f"save_figure: figure number must be >= 1, got {number}")
    if not caption.strip():
        raise ValueError("save_figure: a caption is required")
    problems = check_legibility(fig)
    for p in problems:
        warnings.warn(f"{chapter}/{page} figure {number}: {p}", stacklevel=2)
    records = [record] if isinstance(record, str | os.PathLike) else list(record or [])
    folder = Path(root) if root is not None else figures_root()
    folder = folder / chapter
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{page}-fig{int(number)}"
    files = {}
    for ext in ("png", "svg"):
        path = folder / f"{stem}.{ext}"
        tmp = path.with_name(f".{path.name}.tmp")
        fig.savefig(tmp, format=ext, metadata={"Date": None} if ext == "svg" else None)
        os.replace(tmp, path)
        files[ext] = path.name
    meta = {
        "chapter": chapter,
        "page": page,
        "number": int(number),
        "label": figure_label(chapter, page, int(number)),
        "caption": " ".join(caption.split()),
        "alt": " ".join((alt or default_alt(fig)).split()),
        "records": [lab for lab in (_as_label(r) for r in records) if lab],
        "files": files,
        "legibility": problems,
    }
    side = folder / f"{stem}.json"
    tmp = side.with_name(f".{side.name}.tmp")
    tmp.write_text(json.dumps(meta, indent=2))
    os.replace(tmp, side)
    if show:
        try:
            from IPython import get_ipython
            from IPython.display import display
        except ImportError:  # pragma: no cover - IPython ships with ipykernel
            get_ipython = None
        if get_ipython is not None and get_ipython() is not None:  # in a notebook kernel
            display(fig, metadata={"freqbook": {"figure": meta}})
        plt.close(fig)
    return meta


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
    for i, method in enumerate(curves["method"].values):
        c = curves.sel({"method": method})
        c = c.dropna("seed", how="all")  # seeds a profile did not run for this model
        mean = c.mean("seed").values
        col = colour(str(method), i)
        n = c.sizes.get("seed", 1)
        name = label(str(method), labels) + (" (1 seed)" if n == 1 < curves.sizes["seed"] else "")
        # the proposed method on top: a control drawn later must not hide it
        z = 3 if str(method).lower() in ("siren", "winner") else 2
        ax.plot(steps, mean, label=name, color=col, lw=1.6, zorder=z)
        if n > 1:
            sd = c.std("seed", ddof=1).values
            ax.fill_between(steps, mean - sd, mean + sd, color=col, alpha=0.2, lw=0)
    ax.set_xlabel("Adam step")
    ax.set_ylabel(ylabel)
    place_legend(ax)
    return ax


def _row_limits(values: np.ndarray, symmetric: bool) -> tuple[float, float]:
    hi = float(np.percentile(np.abs(values) if symmetric else values, 99.5))
    return (-hi, hi) if symmetric else (0.0, hi)


def image_derivative_grid(ds: xr.Dataset, labels: Mapping[str, str] | None = None) -> plt.Figure:
    """SIREN paper Fig. 1 content: fitted image, gradient norm and Laplacian per model.

    One row per model (the ground truth first, its derivatives by finite differences) and three
    columns (image, ``|∇f|``, ``Δf``), so that the figure stays three panels wide at page width
    however many models there are. Each column shares one colour scale, fixed by the ground
    truth's 99.5th percentile, so that panels compare fairly.
    """
    methods = [str(m) for m in ds["method"].values]
    nrow = len(methods) + 1
    fig, axes = plt.subplots(nrow, 3, figsize=(PAGE_WIDTH_IN, 1.75 * nrow + 0.4), squeeze=False,
                             layout="constrained")
    columns = [
        ("fit", "target", "image", dict(cmap="gray", vmin=-1, vmax=1)),
        ("grad_norm", "target_grad_norm", "|∇f|", None),
        ("laplacian", "target_laplacian", "Δf", None),
    ]
    for c, (var, target_var, name, kw) in enumerate(columns):
        target = ds[target_var].values
        if kw is None:
            symmetric = var == "laplacian"
            vmin, vmax = _row_limits(target, symmetric)
            kw = dict(cmap="RdBu_r" if symmetric else "magma", vmin=vmin, vmax=vmax)
        panels = [("ground truth", target)] + [
            (label(m, labels), ds[var].sel({"method": m}).values) for m in methods
        ]
        for r, (title, img) in enumerate(panels):
            ax = axes[r, c]
            im = ax.imshow(img, **kw)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
            if r == 0:
                ax.set_title(name)
            if c == 0:
                ax.set_ylabel(title)
        fig.colorbar(im, ax=axes[:, c].tolist(), shrink=0.6, location="bottom", pad=0.01)
    return fig


def summary_frame(ds: xr.Dataset, columns: Mapping[str, tuple[str, str]]) -> pd.DataFrame:
    """Table of ``mean ± sd`` over seeds: ``columns`` maps header -> (variable, format)."""
    table = pd.DataFrame({head: mean_sd(ds[var], fmt=fmt) for head, (var, fmt) in columns.items()})
    table.index = [label(m) for m in table.index]
    table.index.name = "model"
    return table
