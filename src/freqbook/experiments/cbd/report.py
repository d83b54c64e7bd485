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


def seed_mean(ds: xr.Dataset) -> xr.Dataset:
    """``ds`` averaged over ``seed`` (NaN-skipping) when it has that dimension.

    The mechanism record keeps per-seed values for the comparator; its figures and tables show
    the mean over seeds.
    """
    return ds.mean("seed", skipna=True, keep_attrs=True) if "seed" in ds.dims else ds


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
            row["MiniRocket (aeon)"] = _ms(ds["minirocket_acc"].sel(dataset=name).values)
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


def plot_ablation(ds: xr.Dataset):
    """Table 2 variants and the K sweep: LP accuracy per seed (dots) and mean (bars)."""
    import matplotlib.pyplot as plt

    from freqbook.models.cbd import VARIANT_LABELS

    fig, (a, b) = plt.subplots(1, 2, figsize=(9.0, 3.2), gridspec_kw={"width_ratios": [2.4, 1]})
    variants = [str(v) for v in ds["variant"].values]
    for i, v in enumerate(variants):
        vals = ds["lp_acc"].sel(variant=v).values
        a.barh(i, np.nanmean(vals), color="C1" if v == "cbd" else "C0", alpha=0.5)
        a.plot(vals, np.full(vals.size, i), "k.", ms=4)
    a.set_yticks(range(len(variants)), [VARIANT_LABELS[v] for v in variants], fontsize=7)
    lo = float(np.nanmin(ds["lp_acc"].values))
    a.set_xlim(max(0.0, lo - 5), min(100.0, float(np.nanmax(ds["lp_acc"].values)) + 2))
    a.set_xlabel("LP test accuracy (%)")
    orders = ds["order"].values
    b.errorbar(orders, ds["k_lp_acc"].mean("seed"), yerr=ds["k_lp_acc"].std("seed"), marker="o",
               capsize=3)
    b.set_xlabel("Bernstein order K")
    b.set_ylabel("LP test accuracy (%)")
    fig.tight_layout()
    return fig


def plot_ranks(ds: xr.Dataset):
    """Effective rank per encoder layer after pre-training (and at init), MTM vs CBD."""
    import matplotlib.pyplot as plt

    ds = seed_mean(ds)
    names = [str(n) for n in ds["dataset"].values]
    fig, axes = plt.subplots(1, len(names), figsize=(3.4 * len(names), 2.8), squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        for i, method in enumerate(ds["method"].values):
            r = ds["eff_rank"].sel({"dataset": name, "method": method})
            ax.plot(ds["layer"], r.isel(snapshot=-1), "o-", color=f"C{i}",
                    label={"mtm": "vanilla MTM", "cbd": "CBD"}[str(method)])
            ax.plot(ds["layer"], r.isel(snapshot=0), ":", color=f"C{i}", lw=1)
        ax.set_title(f"{PAPER_NAMES.get(name, name)} (T = {int(ds.n_tokens.sel(dataset=name))})",
                     fontsize=9)
        ax.set_xlabel("encoder layer")
    axes[0, 0].set_ylabel("effective rank of attention\n(dotted: at initialisation)")
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot_spectra(ds: xr.Dataset):
    """Normalised energy per frequency bin of the data and of each reconstruction (log y)."""
    import matplotlib.pyplot as plt

    labels = {"data": "data", "mtm_td": "MTM (temporal dec.)", "cbd_td": "CBD (temporal dec.)",
              "cbd_fd": "CBD (frequency dec.)"}
    ds = seed_mean(ds)
    names = [str(n) for n in ds["dataset"].values]
    fig, axes = plt.subplots(1, len(names), figsize=(3.6 * len(names), 2.9), squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        for src in ds["source"].values:
            y = ds["spectrum"].sel(dataset=name, source=src).values
            ax.semilogy(np.flatnonzero(np.isfinite(y)), y[np.isfinite(y)], label=labels[str(src)],
                        color="k" if src == "data" else None, lw=1.6 if src == "data" else 1)
        ax.set_title(PAPER_NAMES.get(name, name), fontsize=9)
        ax.set_xlabel("frequency bin (along time)")
    axes[0, 0].set_ylabel("share of energy")
    axes[0, 0].legend(fontsize=6)
    fig.tight_layout()
    return fig


def plot_ser(ds: xr.Dataset):
    """Per dataset: energy per token-frequency bin before/after SER (first block) and the learned
    Bernstein curves of every block, with the range of normalised energies SER actually sees."""
    import matplotlib.pyplot as plt

    ds = seed_mean(ds)
    names = [str(n) for n in ds["dataset"].values]
    fig, axes = plt.subplots(2, len(names), figsize=(3.6 * len(names), 5.2), squeeze=False)
    for j, name in enumerate(names):
        sel = ds.sel(dataset=name)
        e_in, e_out = sel["ser_energy_in"].isel(block=0).values, sel["ser_energy_out"].isel(
            block=0).values
        ok = np.isfinite(e_in)
        ax = axes[0, j]
        ax.semilogy(np.flatnonzero(ok), e_in[ok], "r.-", label="into SER")
        ax.semilogy(np.flatnonzero(ok), e_out[ok], "g.-", label="after SER")
        ax.set_title(f"{PAPER_NAMES.get(name, name)}: block 1", fontsize=9)
        ax.set_xlabel("token-frequency bin")
        ax2 = ax.twinx()
        ax2.plot(np.flatnonzero(ok), (e_out / e_in)[ok], "b--", lw=1)
        ax2.set_ylabel("ratio", color="b", fontsize=7)
        ax = axes[1, j]
        for b in sel["block"].values:
            ax.plot(sel["w"], sel["ser_curve"].sel(block=b), label=f"block {int(b)}")
            lo, hi = sel["ser_w_range"].sel(block=b, stat="min"), sel["ser_w_range"].sel(
                block=b, stat="max")
            ax.axvspan(float(lo), float(hi), alpha=0.08, color=f"C{int(b) - 1}")
        ax.axhline(1.0, color="k", ls=":", lw=1)
        ax.set_xlabel("normalised energy w (shaded: range seen)")
    axes[0, 0].set_ylabel("energy")
    axes[0, 0].legend(fontsize=7)
    axes[1, 0].set_ylabel("learned response p_K(w)")
    axes[1, 0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot_interactions(ds: xr.Dataset, dataset: str):
    """Last-layer interaction matrices at every snapshot, MTM (top) and CBD (bottom); first seed."""
    import matplotlib.pyplot as plt

    if "seed" in ds.dims:
        ds = ds.isel(seed=0)
    t = int(ds.n_tokens.sel(dataset=dataset))
    snaps = ds["snapshot"].values
    fig, axes = plt.subplots(2, len(snaps), figsize=(1.9 * len(snaps), 4.0), squeeze=False)
    for i, method in enumerate(ds["method"].values):
        for j, s in enumerate(snaps):
            m = ds["interaction"].sel({"dataset": dataset, "method": method, "snapshot": s}
                                      ).values[:t, :t]
            ax = axes[i, j]
            ax.imshow(m, cmap="viridis")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"{ {'mtm': 'MTM', 'cbd': 'CBD'}[str(method)]} epoch {int(s)}",
                         fontsize=7)
    fig.tight_layout()
    return fig


def wall_times(profile: str) -> pd.DataFrame:
    """Wall time of each trained experiment's record at ``profile`` (its own ``wall_s``: training
    and evaluation, without kernel start-up and plotting); the toy walk-through trains nothing
    and is not listed."""
    from freqbook.results.record import load_record_file, record_path

    walls = {}
    for exp in ("table1", "ablation", "mechanisms"):
        path = record_path("cbd", exp, profile)
        if not path.is_file():
            walls[exp] = "not run"
            continue
        wall = float(load_record_file(path).attrs.get("wall_s", float("nan")))
        walls[exp] = f"{wall:.0f} s" if wall >= 1 else f"{wall:.2f} s"
    return pd.Series(walls, name=f"experiment wall time at {profile}").to_frame()


# --- readings: the prose of each page, built from the record (no number typed in by hand) ---

_METHOD_NAMES = {"mtm": "vanilla MTM", "cbd": "CBD"}


def _short(name) -> str:
    return ABBREV.get(str(name), PAPER_NAMES.get(str(name), str(name)))


def _mean_sd(values: np.ndarray) -> tuple[float, float]:
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return float("nan"), float("nan")
    return float(v.mean()), float(v.std(ddof=1)) if v.size > 1 else float("nan")


def _pm(values: np.ndarray) -> str:
    m, s = _mean_sd(values)
    return f"{m:.2f}" if not np.isfinite(s) else f"{m:.2f} ± {s:.2f}"


def gain_beyond_spread(diff: np.ndarray) -> bool:
    """True when a per-seed gain is positive on average and its mean exceeds its seed sd."""
    m, s = _mean_sd(diff)
    return bool(np.isfinite(s) and m > 0 and m > s)


def table1_reading(ds: xr.Dataset) -> str:
    """Markdown reading of the Table 1 record: LP/FT means, gains against their seed spread,
    the gap to the paper's CBD and the two anchors (untrained encoder, MiniRocket)."""
    names = [str(d) for d in ds["dataset"].values]
    tags = " / ".join(_short(n) for n in names)
    n_seeds = ds.sizes["seed"]
    out = [f"Linear probe, mean ± sd over {n_seeds} seeds, on {tags}: "
           + "; ".join(f"{_METHOD_NAMES[str(m)]} "
                       + " / ".join(_pm(ds["lp_acc"].sel({"dataset": n, "method": m}).values)
                                    for n in names) + " %"
                       for m in ds["method"].values) + "."]
    for var, tag in (("lp_acc", "linear probe"), ("ft_acc", "fine-tuning")):
        diffs = {n: (ds[var].sel({"dataset": n, "method": "cbd"})
                     - ds[var].sel({"dataset": n, "method": "mtm"})).values for n in names}
        if all(not np.isfinite(d).any() for d in diffs.values()):
            out.append(f"{tag.capitalize()}: not run.")
            continue
        mean_gain = float(np.nanmean([np.nanmean(d) for d in diffs.values()]))
        beyond = [n for n in names if gain_beyond_spread(diffs[n])]
        per = "; ".join(f"{_short(n)} {_pm(diffs[n])} ({int((diffs[n] > 0).sum())} of "
                        f"{int(np.isfinite(diffs[n]).sum())} seeds)" for n in names)
        lead = "CBD ahead, the paper's direction" if mean_gain > 0 else "MTM ahead"
        which = f" ({', '.join(_short(n) for n in beyond)})" if beyond else ""
        out.append(f"{tag.capitalize()}, CBD − MTM: {mean_gain:+.2f} points on the mean of the "
                   f"datasets ({lead}); the gain is larger than its seed spread on {len(beyond)} "
                   f"of {len(names)} datasets{which}. Per dataset: {per}.")
    gaps = []
    for n in names:
        short = ABBREV.get(n)
        paper, _ = paper_value(f"T1-LP-{short}-cbd") if short else (None, None)
        if paper is not None:
            ours, _ = _mean_sd(ds["lp_acc"].sel({"dataset": n, "method": "cbd"}).values)
            gaps.append(f"{_short(n)} {ours - paper:+.2f}")
    if gaps:
        out.append("Our CBD linear probe minus the paper's: " + ", ".join(gaps) + " points.")
    rnd = {n: _mean_sd(ds["random_lp_acc"].sel(dataset=n).values)[0] for n in names}
    mtm = {n: _mean_sd(ds["lp_acc"].sel({"dataset": n, "method": "mtm"}).values)[0] for n in names}
    above = [_short(n) for n in names if rnd[n] > mtm[n]]
    out.append("Anchors: the probe on an **untrained** encoder scores "
               + " / ".join(f"{rnd[n]:.2f}" for n in names) + " % - above vanilla MTM on "
               + (", ".join(above) if above else "none of the datasets") + ".")
    mr = {n: _mean_sd(ds["minirocket_acc"].sel(dataset=n).values)[0] for n in names}
    if all(np.isfinite(v) for v in mr.values()):
        ssl = {n: np.nanmax([_mean_sd(ds[v].sel({"dataset": n, "method": m}).values)[0]
                             for v in ("lp_acc", "ft_acc") for m in ds["method"].values])
               for n in names}
        best = [_short(n) for n in names if mr[n] > ssl[n]]
        over_paper = [_short(n) for n in names if ABBREV.get(n)
                      and (pv := paper_value(f"T1-LP-{ABBREV[n]}-cbd")[0]) is not None
                      and mr[n] > pv]
        n_mr = int(np.isfinite(ds["minirocket_acc"].values[0]).sum())
        out.append(f"**MiniRocket** (aeon, mean over {n_mr} seed(s)) scores "
                   + " / ".join(f"{mr[n]:.2f}" for n in names) + " %; it is above every "
                   "self-supervised mean of this build (LP and FT, both methods) on "
                   + (", ".join(best) if best else "none of the datasets")
                   + " and above the paper's CBD linear probe on "
                   + (", ".join(over_paper) if over_paper else "none of them") + ".")
    ft_chance = []
    for n in names:
        chance = float(ds["chance"].sel(dataset=n))
        for m in ds["method"].values:
            ft = _mean_sd(ds["ft_acc"].sel({"dataset": n, "method": m}).values)[0]
            if ft <= chance + 2.0:
                ft_chance.append(f"{_short(n)} ({ft:.2f} % {_METHOD_NAMES[str(m)]} vs "
                                 f"{chance:.2f} % majority class)")
    if ft_chance:
        out.append("Fine-tuned accuracy within 2 points of the majority class: "
                   + "; ".join(ft_chance) + ".")
    return "\n\n".join(out)


def ablation_reading(ds: xr.Dataset) -> str:
    """Markdown reading of the ablation record: the full model's rank among the rows, margins,
    the spread between seeds, the K sweep, the SER-vs-CIM comparison and the rows of ours that
    revert one registered deviation each (ranked apart from the paper's rows)."""
    from freqbook.models.cbd import DEVIATION_ROWS, TABLE2_ROWS, VARIANT_LABELS

    all_means = ds["lp_acc"].mean("seed").to_pandas()
    rows = [v for v in all_means.index if v in TABLE2_ROWS]
    means = all_means[rows].sort_values(ascending=False)
    ds_rows = ds.sel(variant=rows)
    full = float(means["cbd"])
    rank = list(means.index).index("cbd") + 1
    others = means.drop("cbd")
    spread = (ds_rows["lp_acc"].max("seed") - ds_rows["lp_acc"].min("seed")).to_pandas()
    widest = str(spread.idxmax())
    runner, runner_acc = str(others.index[0]), float(others.iloc[0])
    mtm = (f" and vanilla MTM is at {float(means['mtm']):.2f} % "
           f"({full - float(means['mtm']):+.2f})") if "mtm" in means.index else ""
    out = [f"The full model is number {rank} of {len(means)} Table 2 rows by mean ({full:.2f} %); "
           "the best "
           f"other row is {VARIANT_LABELS[runner]} ({runner_acc:.2f} %, "
           f"{full - runner_acc:+.2f} points for the full model){mtm}. "
           f"The {ds.sizes['seed']} seeds of one row differ by up to {float(spread.max()):.2f} "
           "points "
           f"({VARIANT_LABELS[widest]}: "
           + " and ".join(f"{v:.2f}" for v in ds["lp_acc"].sel(variant=widest).values) + ")."]
    k = ds["k_lp_acc"].mean("seed")
    best_k = int(k["order"].values[int(np.nanargmax(k.values))])
    out.append("Bernstein order: " + " / ".join(f"{float(v):.2f}" for v in k.values)
               + " % for K = " + " / ".join(str(int(o)) for o in k["order"].values)
               + f" - K = {best_k} has the best mean"
               + (" (the paper's best order)." if best_k == 12 else " (the paper's best is 12)."))
    if {"no_ser", "no_cim"} <= set(means.index):
        ser, cim = float(means["no_ser"]), float(means["no_cim"])
        out.append(f"w/o SER {ser:.2f} % vs w/o CIM {cim:.2f} %: removing SER costs "
                   + ("more" if ser < cim else "less") + " than removing CIM"
                   + (" (the paper's ordering)." if ser < cim else " - the paper's ordering is not"
                      " reproduced."))
    gap = float(means.max() - means.min())
    noise = float(spread.max())
    out.append(f"Between the best and the worst row means: {gap:.2f} points; "
               + ("this is within the widest seed spread of a single row, so none of these "
                  "orderings is beyond the seed noise at this budget." if gap <= noise else
                  "this exceeds the widest seed spread of a single row."))
    paper = [v for v in (paper_value(f"T2-LP-{r}")[0] for r in means.index) if v is not None]
    if len(paper) > 1:
        out.append(f"For scale, the paper's own row means (HAR, Table 2) span {min(paper):.2f}-"
                   f"{max(paper):.2f} % ({max(paper) - min(paper):.2f} points).")
    ours = [v for v in DEVIATION_ROWS if v in all_means.index]
    if ours and "delta_vs_full" in ds:
        out.append("Rows of ours, each reverting one of the book's departures (minus the full "
                   "model, mean ± sd over seeds): "
                   + "; ".join(f"{VARIANT_LABELS[v]} "
                               f"{_pm(ds['delta_vs_full'].sel(variant=v).values)} points"
                               for v in ours) + ".")
    return "\n\n".join(out)


def mechanisms_reading(ds: xr.Dataset) -> str:
    """Markdown reading of the mechanisms record: rank per layer (init and end), spectrum distance
    and high-frequency share per source, and SER's learned gain (means over the seeds)."""
    n_seeds = ds.sizes.get("seed", 1)
    ds = seed_mean(ds)
    names = [str(d) for d in ds["dataset"].values]
    init = ds["eff_rank"].isel(snapshot=0)
    out = [f"Means over {n_seeds} seed(s). *Rank.* At initialisation the effective rank is "
           f"{float(init.min()):.2f}-{float(init.max()):.2f} for both models."]
    for n in names:
        parts = []
        for m in ds["method"].values:
            r = ds["eff_rank"].sel({"dataset": n, "method": m}).isel(snapshot=-1).values
            peak = int(np.argmax(r))
            parts.append(f"{_METHOD_NAMES[str(m)]} " + ", ".join(f"{v:.2f}" for v in r)
                         + (f" (from layer {peak + 1} to the last: {r[peak]:.2f} → {r[-1]:.2f})"
                            if peak < r.size - 1 else " (highest in the last layer)"))
        out.append(f"{_short(n)} (T = {int(ds['n_tokens'].sel(dataset=n))}), effective rank per "
                   "layer after training: " + "; ".join(parts) + ".")
    full = bool((ds["num_rank"].isel(snapshot=-1) == ds["n_tokens"]).all())
    out.append("Numerical rank equals T in every layer: uninformative." if full else
               "Numerical rank falls below T in some layers (table above).")
    sp = []
    for n in names:
        d = ds["spectrum_l1"].sel(dataset=n)
        h = ds["high_share"].sel(dataset=n)
        sp.append(f"{_short(n)}: distance to the data spectrum MTM "
                  f"{float(d.sel(source='mtm_td')):.3f}, CBD {float(d.sel(source='cbd_td')):.3f}; "
                  "energy share above the lowest quarter of bins data "
                  f"{float(h.sel(source='data')):.3f}, MTM {float(h.sel(source='mtm_td')):.3f}, "
                  f"CBD {float(h.sel(source='cbd_td')):.3f}")
    out.append("*Spectrum* (temporal-decoder reconstructions). " + "; ".join(sp) + ".")
    ser = []
    for n in names:
        g = ds["ser_gain"].sel(dataset=n).isel(block=0).values
        g = g[np.isfinite(g)]
        upper = g[g.size // 2:] if g.size else g
        w = ds["ser_w_range"].sel(dataset=n)
        ser.append(f"{_short(n)}: max deviation of the response from 1 "
                   f"{float(ds['ser_max_dev'].sel(dataset=n)):.3g}, block-1 gain on the upper half "
                   f"of the token-frequency bins {upper.min():.3g}-{upper.max():.3g}, median "
                   f"normalised energy {float(w.sel(stat='median').mean()):.3g} (max "
                   f"{float(w.sel(stat='max').max()):.3g})" if upper.size else f"{_short(n)}: —")
    out.append("*SER.* " + "; ".join(ser) + ".")
    return "\n\n".join(out)


def glance_frame(profile: str) -> pd.DataFrame:
    """"Results at a glance" of the ``table1`` record at ``profile``: LP and FT for both methods
    with the paper's CBD beside them, the untrained-encoder probe and MiniRocket."""
    from freqbook.results.record import load_record_file, record_path

    path = record_path("cbd", "table1", profile)
    if not path.is_file():
        return pd.DataFrame({"table1": ["not run"]})
    ds = load_record_file(path)
    rows = {}
    for name in ds["dataset"].values:
        sel, short = ds.sel(dataset=name), ABBREV.get(str(name))
        rows[_short(name)] = {
            "LP vanilla MTM": _ms(sel["lp_acc"].sel({"method": "mtm"}).values),
            "LP CBD": _ms(sel["lp_acc"].sel({"method": "cbd"}).values),
            "LP CBD (paper)": _paper(f"T1-LP-{short}-cbd") if short else "not in paper",
            "FT vanilla MTM": _ms(sel["ft_acc"].sel({"method": "mtm"}).values),
            "FT CBD": _ms(sel["ft_acc"].sel({"method": "cbd"}).values),
            "FT CBD (paper)": _paper(f"T1-FT-{short}-cbd") if short else "not in paper",
            "untrained encoder + probe": _ms(sel["random_lp_acc"].values),
            "MiniRocket (aeon)": _ms(sel["minirocket_acc"].values)}
    return pd.DataFrame(rows).T
