"""Readings of the WINNER records: the prose under each table, computed from the record.

Every sentence that quotes a measured number or a derived statement ("SIREN collapses on k of n
clips", "the schedule lands x dB below the best cell") is built here from the record's Dataset, so a
rerun with another seed or profile never shows prose that contradicts the tables above it. Each
function returns Markdown; the notebooks display it.

A fit is called *collapsed* when its final PSNR is less than ``collapse_db`` (default 1 dB) above
the PSNR of an all-zero output (``gain_over_zero``), the audio table's criterion.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from freqbook.experiments.winner.common import LABELS

COLLAPSE_DB = 1.0


def _m(da: xr.DataArray) -> float:
    """Mean over ``seed`` (NaN-skipping) where the dimension exists, as a float."""
    if "seed" in da.dims:
        da = da.mean("seed", skipna=True)
    return float(da)


def _sd(da: xr.DataArray) -> float:
    if "seed" in da.dims and int(da.notnull().sum("seed")) > 1:
        return float(da.std("seed", skipna=True, ddof=1))
    return float("nan")


def _pm(da: xr.DataArray, fmt: str = ".1f") -> str:
    sd = _sd(da)
    return f"{_m(da):{fmt}}" + ("" if np.isnan(sd) else f" ± {sd:{fmt}}")


def _join(items: list[str]) -> str:
    return ", ".join(items) if items else "none"


def collapsed_clips(
    ds: xr.Dataset, method: str = "siren", collapse_db: float = COLLAPSE_DB
) -> list[str]:
    """Clips on which ``method``'s mean final PSNR is within ``collapse_db`` of the all-zero output.

    Parameters
    ----------
    ds : xarray.Dataset
        An audio record (``winner/bottleneck`` or ``winner/audio``) with ``gain_over_zero``
        over ``(clip, method, seed)``.
    method : str
        Method label.
    collapse_db : float
        Threshold in dB above the all-zero output.

    Returns
    -------
    list of str
        The collapsed clips, in record order.
    """
    g = ds["gain_over_zero"].sel({"method": method})
    return [str(c) for c in ds["clip"].values if _m(g.sel(clip=c)) < collapse_db]


# ------------------------------------------------------------------------------- 01 bottleneck
def bottleneck_reading(ds: xr.Dataset, collapse_db: float = COLLAPSE_DB) -> str:
    """Per clip: which networks collapse, SIREN²'s margins over silence and SIREN, peak - final.

    Parameters
    ----------
    ds : xarray.Dataset
        The ``winner/bottleneck`` record.
    collapse_db : float
        Collapse threshold (dB above the all-zero output).

    Returns
    -------
    str
        Markdown bullet list.
    """
    lines = []
    methods = [str(m) for m in ds["method"].values]
    for c in ds["clip"].values:
        c = str(c)
        parts = []
        for m in methods:
            if m == "winner":
                continue
            g = _m(ds["gain_over_zero"].sel({"clip": c, "method": m}))
            rms = _m(ds["rms_ratio"].sel({"clip": c, "method": m}))
            state = "**collapses**" if g < collapse_db else "does not collapse"
            parts.append(
                f"{LABELS[m]} {state} ({g:+.2f} dB over silence, output RMS {100 * rms:.1f} % "
                f"of the target's)"
            )
        if "winner" in methods:
            w = ds.sel({"clip": c, "method": "winner"})
            g = _m(w["gain_over_zero"])
            s = f"SIREN² ends {g:+.1f} dB over silence"
            if "siren" in methods:
                siren_final = ds["final_psnr"].sel({"clip": c, "method": "siren"})
                s += (
                    f" and {_m(w['final_psnr'] - siren_final):+.1f} dB "
                    "relative to SIREN (final PSNR)"
                )
            s += f"; peak minus final PSNR: {_m(w['peak_psnr'] - w['final_psnr']):.1f} dB"
            parts.append(s)
        lines.append(f"* **{c}**: " + "; ".join(parts) + ".")
    return (
        f"Reading of this build (collapsed = final PSNR less than {collapse_db:g} dB above the "
        "all-zero output, mean over seeds):\n\n" + "\n".join(lines)
    )


# -------------------------------------------------------------------------------- 02 why noise
def why_noise_reading(ds: xr.Dataset) -> str:
    """The std check (zero and PyTorch biases) and the four-layer network's per-layer stds.

    Parameters
    ----------
    ds : xarray.Dataset
        The ``winner/why_noise`` record.

    Returns
    -------
    str
        Markdown paragraph.
    """
    zero = ds["abs_rel_err"].sel(bias="zero")
    worst = zero.where(zero == zero.max(), drop=True)
    w_worst = int(worst["width"].values[0])
    widths, ss = ds["width"].values, ds["s"].values
    s_min = float(ss.min())
    torch0 = ds["std_measured"].sel(bias="torch", s=s_min)
    ana0 = ds["std_analytic"].sel(bias="torch", s=s_min)
    lo, hi = int(widths.min()), int(widths.max())
    std = ds["pre_std"]
    later = std.sel(layer=[k for k in ds["layer"].values if k > 2])
    text = (
        f"With zero biases the measured layer-2 std follows $\\sqrt{{1 + d s^2/2}}$ within "
        f"**{100 * float(zero.max()):.1f} %** over the whole grid (widths {lo}-{hi}, $s$ "
        f"{s_min:g}-{float(ss.max()):g}); the largest error is at width {w_worst}"
        + (" - the smallest, where the approximations are coarsest" if w_worst == lo else "")
        + f". With the code's PyTorch biases the std at $s = {s_min:g}$ is "
        f"{float(torch0.sel(width=hi)):.2f} at width {hi} and "
        f"{float(torch0.sel(width=lo)):.2f} at width {lo} "
        f"(formula with the $\\omega_0^2/(3d)$ term: {float(ana0.sel(width=hi)):.2f} and "
        f"{float(ana0.sel(width=lo)):.2f}), against 1 without the term. In the four-layer network "
        f"layer 2's std goes from {float(std.sel(noise='none', layer=2)):.3g} to "
        f"{float(std.sel(noise='winner', layer=2)):.3g} with WINNER noise"
    )
    if later.sizes["layer"]:
        text += (
            f", while layers {', '.join(str(k) for k in later['layer'].values)} stay between "
            f"{float(later.min()):.2f} and {float(later.max()):.2f} with or without noise"
        )
    return text + "."


# ------------------------------------------------------------------------------ 03 audio table
def broadening_reading(ds: xr.Dataset) -> str:
    """The layer-2 broadening $\\sqrt{1 + d s_1^2/2}$ at this profile's table widths and at the
    code's, per target (part 3 of the ``why_noise`` record)."""
    if "broadening" not in ds:
        return ""
    rows = []
    for t in ds["target"].values:
        b, w = ds["broadening"].sel(target=t), ds["broadening_width"].sel(target=t)
        rows.append(
            f"* **{t}** ($s_1 = {float(ds['broadening_s1'].sel(target=t)):.3g}$): "
            f"{float(b.sel(width_of='profile')):.2f} at this profile's width "
            f"$d = {int(w.sel(width_of='profile'))}$, {float(b.sel(width_of='code')):.2f} at the "
            f"code's $d = {int(w.sel(width_of='code'))}$ "
            f"({100 * (float(ds['broadening_ratio'].sel(target=t)) - 1):+.0f} %)")
    return ("Layer-2 std factor $\\sqrt{1 + d s_1^2/2}$ that WINNER's schedule gives at the "
            "widths of this profile's audio and image tables and at the code's:\n\n"
            + "\n".join(rows))


def audio_reading(ds: xr.Dataset, collapse_db: float = COLLAPSE_DB) -> str:
    """SIREN's collapses, SIREN²'s range and gains, the baselines, the stretched-window control.

    Parameters
    ----------
    ds : xarray.Dataset
        The ``winner/audio`` record (``ctrl_*`` variables optional).
    collapse_db : float
        Collapse threshold (dB above the all-zero output).

    Returns
    -------
    str
        Markdown paragraphs.
    """
    clips = [str(c) for c in ds["clip"].values]
    methods = [str(m) for m in ds["method"].values]
    n = len(clips)
    out = []
    if "siren" in methods:
        col = collapsed_clips(ds, "siren", collapse_db)
        learnt = [c for c in clips if c not in col]
        out.append(
            f"SIREN with $\\omega_0 = 3000$ ends at the all-zero level on "
            f"**{len(col)} of {n} clips**"
            + (
                f"; more than {collapse_db:g} dB above it on "
                + ", ".join(
                    f"{c} (peak {_pm(ds['peak_psnr'].sel({'clip': c, 'method': 'siren'}))} dB, "
                    f"final {_m(ds['gain_over_zero'].sel({'clip': c, 'method': 'siren'})):+.1f} dB "
                    "over silence)"
                    for c in learnt
                )
                if learnt
                else ""
            )
            + "."
        )
    if "winner" in methods:
        pk = ds["peak_psnr"].sel({"method": "winner"})
        means = pk.mean("seed", skipna=True)
        cmin, cmax = str(means.idxmin("clip").item()), str(means.idxmax("clip").item())
        wcol = collapsed_clips(ds, "winner", collapse_db)
        s = (
            f"SIREN² fits {n - len(wcol)} of {n}: peak PSNR from "
            f"{_pm(pk.sel(clip=cmin))} dB ({cmin}) "
            f"to {_pm(pk.sel(clip=cmax))} dB ({cmax})"
        )
        if "siren" in methods:
            gain = ds["gain_vs_siren"].sel({"method": "winner"}).mean("seed", skipna=True)
            s += (
                f"; SIREN² minus SIREN from {float(gain.min()):+.1f} dB "
                f"({gain.idxmin('clip').item()}) "
                f"to {float(gain.max()):+.1f} dB ({gain.idxmax('clip').item()})"
            )
        out.append(s + ".")
    base = [m for m in ("finer", "wire", "gauss") if m in methods]
    if base:
        parts = []
        for m in base:
            col = collapsed_clips(ds, m, collapse_db)
            parts.append(f"{LABELS[m]} on {len(col)} of {n}")
        out.append("Baselines at the all-zero level: " + ", ".join(parts) + ".")
    if "ctrl_peak_psnr" in ds:
        rows = []
        for c in ds["ctrl_clip"].values:
            z = float(ds["ctrl_zero_psnr"].sel(ctrl_clip=c))
            ctrl = ds["ctrl_peak_psnr"].sel(ctrl_clip=c)
            g = ds["ctrl_gain_over_zero"].sel(ctrl_clip=c)
            fits = [m for m in methods if float(g.sel({"method": m})) >= collapse_db]
            rows.append(
                f"* stretched **{c}** window (silence {z:.1f} dB): "
                + ", ".join(f"{LABELS[m]} {float(ctrl.sel({'method': m})):.1f}" for m in methods)
                + f" dB; at silence: {_join([LABELS[m] for m in methods if m not in fits])}"
            )
        out.append("Control (seed 0, the window on $[-1, 1]$):\n\n" + "\n".join(rows))
    return "\n\n".join(out)


# ------------------------------------------------------------------------------ 04 image table
def image_reading(ds: xr.Dataset) -> str:
    """SIREN² vs SIREN per image (ordered by centroid), best method per image, peak-final gaps.

    Parameters
    ----------
    ds : xarray.Dataset
        The ``winner/image`` record.

    Returns
    -------
    str
        Markdown paragraphs.
    """
    images = [str(i) for i in ds["image"].values]
    methods = [str(m) for m in ds["method"].values]
    out = []
    if {"siren", "winner"} <= set(methods):
        order = sorted(images, key=lambda i: float(ds["psi"].sel(image=i)))
        d = ds["peak_psnr"].sel({"method": "winner"}) - ds["peak_psnr"].sel({"method": "siren"})
        rel = ds["rel_gain_pct"].sel({"method": "winner"})
        wins = [i for i in images if _m(d.sel(image=i)) > 0]
        rows = [
            f"{i} (ψ = {float(ds['psi'].sel(image=i)):.2f}): "
            f"{_m(ds['peak_psnr'].sel({'image': i, 'method': 'siren'})):.1f} → "
            f"{_m(ds['peak_psnr'].sel({'image': i, 'method': 'winner'})):.1f} dB "
            f"({_m(d.sel(image=i)):+.1f} dB, {_m(rel.sel(image=i)):+.0f} %)"
            for i in order
        ]
        out.append(
            f"SIREN² beats SIREN on **{len(wins)} of {len(images)}** crops (peak PSNR, mean over "
            "seeds), by increasing centroid: " + "; ".join(rows) + "."
        )
    means = ds["peak_psnr"].mean("seed", skipna=True)
    out.append(
        "Best method per image: "
        + ", ".join(
            f"{i}: {LABELS[str(means.sel(image=i).idxmax('method').item())]}" for i in images
        )
        + "."
    )
    gap = (ds["peak_psnr"] - ds["final_psnr"]).mean("seed", skipna=True)
    idx = np.unravel_index(int(np.nanargmax(gap.values)), gap.shape)
    gi, gm = (str(gap[d].values[k]) for d, k in zip(gap.dims, idx, strict=True))
    out.append(f"Largest peak-minus-final gap: {float(gap.max()):.1f} dB ({LABELS[gm]} on {gi}).")
    return "\n\n".join(out)


# ------------------------------------------------------------------------------- 05 robustness
_GRIDS = {"tetris": ("audio_psnr", "s0_a", "s1_a"), "camera": ("image_psnr", "s0_i", "s1_i")}


def robustness_reading(ds: xr.Dataset, within_db: float = 3.0) -> str:
    """Per target: the schedule against the best cell, the no-noise corner, the robust fraction.

    Parameters
    ----------
    ds : xarray.Dataset
        The ``winner/robustness`` record.
    within_db : float
        The margin of the robustness criterion (the claim's 3 dB), used only to phrase the gap.

    Returns
    -------
    str
        Markdown bullet list.
    """
    lines = []
    for t in ds["target"].values:
        t = str(t)
        gap = float(ds["schedule_gap"].sel(target=t))
        s = (
            f"* **{t}** - the schedule's point "
            f"($s_0 = {float(ds['schedule_s0'].sel(target=t)):.1f}$, "
            f"$s_1 = {float(ds['schedule_s1'].sel(target=t)):.3g}$) scores "
            f"{float(ds['schedule_psnr'].sel(target=t)):.1f} dB, {gap:.1f} dB below the best cell "
            f"({float(ds['best_psnr'].sel(target=t)):.1f} dB"
        )
        if t in _GRIDS and _GRIDS[t][0] in ds:
            var, a, b = _GRIDS[t]
            g = ds[var]
            k = np.unravel_index(int(np.nanargmax(g.values)), g.shape)
            s += f" at $s_0 = {float(g[a].values[k[0]]):g}$, $s_1 = {float(g[b].values[k[1]]):g}$"
        s += (
            f"), {'within' if gap <= within_db else 'outside'} {within_db:g} dB; no noise: "
            f"{float(ds['no_noise_psnr'].sel(target=t)):.1f} dB; "
            f"{100 * float(ds['robust_fraction'].sel(target=t)):.0f} % of the cells with $s_0 > 0$ "
            "lie "
            f"within {within_db:g} dB of the best"
        )
        lines.append(s + ".")
    return "\n".join(lines)


# ------------------------------------------------------------------------------- 06 deviations
def deviation_means(
    ds: xr.Dataset, deviation: str, variable: str = "peak_psnr"
) -> dict[str, tuple]:
    """``{target: (code, alternative)}`` means over seeds of one ablation's runs.

    Parameters
    ----------
    ds : xarray.Dataset
        The ``winner/deviations`` record (runs along ``run``).
    deviation : str
        Ablation name (``decay_a``, ``centroid``, ``channels``, ``first_omega``).
    variable : str
        Per-run variable (``peak_psnr``, ``final_psnr``, ``s0``).

    Returns
    -------
    dict
        Target name to ``(code, alternative)`` means, in record order.
    """
    sel = ds["deviation"].values == deviation
    out: dict[str, tuple] = {}
    targets = list(dict.fromkeys(str(t) for t in ds["target"].values[sel]))
    for t in targets:
        pair = []
        for v in ("code", "alternative"):
            mask = sel & (ds["target"].values == t) & (ds["variant"].values == v)
            pair.append(
                float(np.nanmean(ds[variable].values[mask])) if mask.any() else float("nan")
            )
        out[t] = tuple(pair)
    return out


_DEV_NAMES = {
    "decay_a": "$a = 5$ instead of 7",
    "centroid": "per-row instead of flattened centroid",
    "channels": "channel count divided once instead of twice",
    "first_omega": "first $\\omega_0 = 3000$ instead of 30, same noise",
}


def deviations_reading(ds: xr.Dataset) -> str:
    """Per ablation and target: $s_0$ and peak PSNR, code → alternative; the peak-vs-final gaps.

    Parameters
    ----------
    ds : xarray.Dataset
        The ``winner/deviations`` record.

    Returns
    -------
    str
        Markdown bullet list.
    """
    lines = []
    present = list(dict.fromkeys(str(d) for d in ds["deviation"].values))
    for dev in present:
        s0 = deviation_means(ds, dev, "s0")
        pk = deviation_means(ds, dev, "peak_psnr")
        parts = []
        for t, (c, a) in pk.items():
            c0, a0 = s0[t]
            parts.append(
                f"{t}: $s_0$ {c0:.1f} → {a0:.1f}, peak PSNR {c:.1f} → {a:.1f} dB ({a - c:+.1f} dB)"
            )
        lines.append(f"* **{_DEV_NAMES.get(dev, dev)}** - " + "; ".join(parts) + ".")
    if "s0_a7" in ds and "s0_a5" in ds:
        rel = (ds["s0_a5"] / ds["s0_a7"] - 1) * 100
        lines.append(
            f"* $a = 5$ changes $s_0$ by {float(rel.max()):+.0f} % to {float(rel.min()):+.0f} % "
            f"over the clips (largest change: {rel.idxmin('clip').item()})."
        )
    gap = ds["final_psnr"] - ds["peak_psnr"]
    k = int(np.nanargmin(gap.values))
    lines.append(
        f"* **Best epoch** - final minus peak PSNR averages {float(gap.mean()):+.1f} dB over the "
        f"fits here and reaches {float(gap.min()):+.1f} dB (run `{ds['run'].values[k]}`)."
    )
    return "\n".join(lines)


# --------------------------------------------------------------------------- 99 at a glance
def absolute_levels(records: dict[str, xr.Dataset], profile: str | None = None) -> str:
    """How this build's absolute PSNRs compare with the few (indicative) paper values.

    Computed from the records, so the sentence can never contradict the tables: SIREN²'s highest
    peak PSNR of the bottleneck record, and SIREN²'s peak PSNR on each image of the image record
    that has an indicative paper value, each said to lie above or below that value.

    Returns
    -------
    str
        One Markdown paragraph (empty when neither record is given).
    """
    from freqbook.experiments.winner.image_table import PAPER_VALUES as IMAGE_PAPER

    parts = []
    if "bottleneck" in records:
        pk = records["bottleneck"]["peak_psnr"].sel({"method": "winner"}).mean("seed", skipna=True)
        clip = str(pk.idxmax("clip").item())
        parts.append(f"SIREN² peaks at {float(pk.max()):.1f} dB on the {clip} window "
                     "(bottleneck page)")
    if "image" in records:
        pk = records["image"]["peak_psnr"].sel({"method": "winner"}).mean("seed", skipna=True)
        for (name, method), value in IMAGE_PAPER.items():
            if method != "winner" or name not in pk["image"].values:
                continue
            ours = float(pk.sel(image=name))
            side = "above" if ours > value else "below"
            parts.append(f"SIREN² reaches {ours:.1f} dB on the {name} crop, {side} the "
                         f"≈{value:g} dB that the withdrawn README draft gives for the whole image")
    if not parts:
        return ""
    where = f"at `{profile}`" if profile else "here"
    caveat = ("" if profile == "paper" else
              " Windows and crops are different tasks from the paper's whole targets, so these "
              "levels are not comparable with the paper's, in either direction.")
    return f"Absolute levels {where}: " + "; ".join(parts) + "." + caveat


def at_a_glance(records: dict[str, xr.Dataset], collapse_db: float = COLLAPSE_DB,
                profile: str | None = None) -> str:
    """One headline per experiment, computed from whichever records exist.

    Parameters
    ----------
    records : dict
        Experiment name (``bottleneck``, ``why_noise``, ``audio``, ``image``, ``robustness``,
        ``deviations``) to its record; missing experiments are skipped.
    collapse_db : float
        Collapse threshold (dB above the all-zero output).
    profile : str, optional
        Profile of the records; below ``paper`` the audio headline says that the baselines are
        handicapped by the short windows (its "best on k of n" is not a like-for-like result).

    Returns
    -------
    str
        Markdown bullet list (empty string if no record is given).
    """
    out = []
    if "bottleneck" in records:
        ds = records["bottleneck"]
        col = collapsed_clips(ds, "siren", collapse_db)
        wcol = collapsed_clips(ds, "winner", collapse_db)
        pk = ds["peak_psnr"].sel({"method": "winner"})
        out.append(
            f"**Bottleneck** - SIREN collapses on {_join(col)} (of {ds.sizes['clip']} clips), "
            f"SIREN² on {_join(wcol)}; SIREN² peak PSNR "
            + ", ".join(f"{c}: {_pm(pk.sel(clip=c))} dB" for c in ds["clip"].values)
            + "."
        )
    if "why_noise" in records:
        ds = records["why_noise"]
        out.append(
            "**Why noise** - layer-2 std vs $\\sqrt{1 + d s^2/2}$ (zero biases): largest error "
            f"{100 * float(ds['abs_rel_err'].sel(bias='zero').max()):.1f} %; "
            "with the code's biases and the bias term: "
            f"{100 * float(ds['abs_rel_err'].sel(bias='torch').max()):.1f} %."
        )
    if "audio" in records:
        ds = records["audio"]
        n = ds.sizes["clip"]
        means = ds["peak_psnr"].mean("seed", skipna=True)
        best = [str(c) for c in ds["clip"].values if means.sel(clip=c).idxmax("method") == "winner"]
        gain = ds["gain_vs_siren"].sel({"method": "winner"}).mean("seed", skipna=True)
        out.append(
            f"**Audio table** - SIREN collapses on "
            f"{len(collapsed_clips(ds, 'siren', collapse_db))} of {n} clips; "
            f"SIREN² has the best peak PSNR on {len(best)} of {n} (mean over clips "
            f"{float(means.sel({'method': 'winner'}).mean()):.1f} dB vs SIREN's "
            f"{float(means.sel({'method': 'siren'}).mean()):.1f} dB); largest gain "
            f"{float(gain.max()):+.1f} dB ({gain.idxmax('clip').item()})"
            + ("." if profile == "paper" else
               "; FINER, WIRE and Gauss are handicapped by the short windows, so the ranking is "
               "not comparable with the paper's.")
        )
    if "image" in records:
        ds = records["image"]
        rel = ds["rel_gain_pct"].sel({"method": "winner"}).mean("seed", skipna=True)
        wins = int((rel > 0).sum())
        out.append(
            f"**Image table** - SIREN² beats SIREN on {wins} of {ds.sizes['image']} images; "
            "relative gain "
            + ", ".join(f"{i} {float(rel.sel(image=i)):+.0f} %" for i in ds["image"].values)
            + "."
        )
    if "robustness" in records:
        ds = records["robustness"]
        out.append(
            "**Robustness** - schedule vs best grid cell: "
            + "; ".join(
                f"{t} {float(ds['schedule_gap'].sel(target=t)):.1f} dB below, "
                f"{100 * float(ds['robust_fraction'].sel(target=t)):.0f} % of the noisy cells "
                "within 3 dB of the best"
                for t in ds["target"].values
            )
            + "."
        )
    if "deviations" in records:
        eff = records["deviations"]["effect"].to_series()
        out.append(
            "**Deviations** (alternative minus code, peak PSNR) - "
            + ", ".join(f"{k} {v:+.1f} dB" for k, v in eff.items())
            + "."
        )
    levels = absolute_levels(records, profile)
    if levels:
        out.append(f"**Absolute PSNRs** - {levels}")
    return "\n".join(f"* {line}" for line in out)
