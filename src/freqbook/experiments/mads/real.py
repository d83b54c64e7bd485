"""Table M1: MADS against the baselines on Human Activity and Air Quality (MSE, Max, W2).

Each seed re-draws the evaluation mask, MADS's initialisation and the deep baselines' weights;
every method of a seed is graded on the same removed entries. The record keeps per-seed values
(``seed`` dimension), the relative gain of MADS over the best baseline of each seed, and a few
imputed Human Activity windows for the figure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from freqbook.experiments.mads import common
from freqbook.experiments.mads.pypots_adapter import DEEP, DeepConfig, available
from freqbook.models.mads import MADSConfig, TrainConfig
from freqbook.profiles import config_for as _config_for

DATASETS = ("human_activity", "italy", "beijing")


@dataclass(frozen=True)
class RealConfig:
    """Datasets, methods, missing rate, seeds and budgets of Table M1."""

    datasets: tuple[str, ...] = DATASETS
    methods: tuple[str, ...] = common.METHODS
    rate: float = 0.5
    seeds: tuple[int, ...] = (0, 1, 2)
    model: MADSConfig = common.PAPER_MODEL
    train: TrainConfig = common.PAPER_TRAIN
    deep: DeepConfig = common.PAPER_DEEP
    examples: int = 4

    def __post_init__(self) -> None:
        bad = [d for d in self.datasets if d not in DATASETS]
        if bad:
            raise ValueError(f"unknown datasets {bad}; valid: {', '.join(DATASETS)}")
        bad = [m for m in self.methods if m not in common.METHODS]
        if bad:
            raise ValueError(f"unknown methods {bad}; valid: {', '.join(common.METHODS)}")


PROFILES = {
    "smoke": RealConfig(datasets=("human_activity", "italy"),
                        methods=("mads", "mean", "locf", "lerp", "saits"), seeds=(0,),
                        model=common.SMOKE_MODEL, train=common.SMOKE_TRAIN,
                        deep=common.SMOKE_DEEP),
    "cpu": RealConfig(datasets=("human_activity", "italy"), model=common.CPU_MODEL,
                      train=common.CPU_TRAIN, deep=common.CPU_DEEP),
    "paper": RealConfig(),
}


def config_for(profile: str, seed: int = 0) -> RealConfig:
    """The profile's config, seeds starting at ``seed``."""
    return _config_for(PROFILES, profile, seed)


def task(dataset: str, rate: float, seed: int) -> common.Task:
    """The task of ``dataset`` (``human_activity``, ``italy`` or ``beijing``)."""
    if dataset == "human_activity":
        return common.activity_task(rate, seed)
    return common.airquality_task(dataset, rate, seed)


def _methods(cfg: RealConfig) -> tuple[str, ...]:
    """Drop the PyPOTS models (with a note) when PyPOTS is not installed."""
    if available():
        return cfg.methods
    print("PyPOTS is not installed: deep baselines skipped (pip install \"freqbook[mads]\")")
    return tuple(m for m in cfg.methods if m not in DEEP)


def run(cfg: RealConfig, *, progress: bool | None = None, device: str = "cpu") -> xr.Dataset:
    """Every dataset x method x seed; returns the record (see the module docstring)."""
    methods = _methods(cfg)
    nd, nm, ns, nk = len(cfg.datasets), len(methods), len(cfg.seeds), len(common.METRICS)
    err = np.full((nd, nm, nk, ns), np.nan)
    gmax, fit_s, imp_s = (np.full((nd, nm, ns), np.nan) for _ in range(3))
    train_mse = np.full((nd, ns), np.nan)
    examples = None
    for d, dataset in enumerate(cfg.datasets):
        for s, seed in enumerate(cfg.seeds):
            t = task(dataset, cfg.rate, seed)
            preds = {}
            for m, name in enumerate(methods):
                res = common.run_method(name, t, cfg.model, cfg.train, cfg.deep, seed,
                                        progress=progress, device=device)
                err[d, m, :, s] = [res.metrics[k] for k in common.METRICS]
                gmax[d, m, s], fit_s[d, m, s], imp_s[d, m, s] = (
                    res.metrics["max_global"], res.fit_s, res.impute_s)
                if name == "mads":
                    train_mse[d, s] = res.train_mse
                preds[name] = res.pred
            if dataset == "human_activity" and s == 0:
                examples = _examples(t, preds, methods, err[d, :, 0, s], cfg.examples)
    ds = xr.Dataset(
        {
            "error": (("dataset", "method", "metric", "seed"), err,
                      {"long_name": "error on the removed entries (z-scored units)"}),
            "max_global": (("dataset", "method", "seed"), gmax),
            "fit_s": (("dataset", "method", "seed"), fit_s, {"units": "s"}),
            "impute_s": (("dataset", "method", "seed"), imp_s, {"units": "s"}),
            "train_mse": (("dataset", "seed"), train_mse),
        },
        coords={"dataset": list(cfg.datasets), "method": list(methods),
                "metric": list(common.METRICS), "seed": list(cfg.seeds)},
        attrs={"rate": cfg.rate},
    )
    if "mads" in methods and len(methods) > 1:
        best = ds["error"].drop_sel({"method": "mads"}).min("method")
        mads = ds["error"].sel({"method": "mads"})
        ds["gain_pct"] = (100.0 * (best - mads) / best).assign_attrs(
            units="%", long_name="MADS improvement over the best baseline of the seed")
        ds["ratio_to_best"] = (mads / best).assign_attrs(
            long_name="MADS error / best baseline error")
    if examples is not None:
        ds = ds.merge(examples)
    return ds


def _examples(t: common.Task, preds: dict, methods, mse, n: int) -> xr.Dataset:
    """A few test windows with truth, masks, MADS and the best baseline's imputations."""
    names = [m for m in methods if m != "mads"]
    best = names[int(np.nanargmin([mse[list(methods).index(m)] for m in names]))] if names else None
    shown = ["mads"] + ([best] if best else [])
    te = t.test
    idx = np.argsort(-te.removed.sum(axis=(1, 2)))[:n]
    return xr.Dataset(
        {
            "ex_times": (("ex", "step"), te.times[idx]),
            "ex_truth": (("ex", "step", "channel"), te.values[idx]),
            "ex_input": (("ex", "step", "channel"), te.input[idx].astype(np.int8)),
            "ex_removed": (("ex", "step", "channel"), te.removed[idx].astype(np.int8)),
            "ex_pred": (("ex_method", "ex", "step", "channel"),
                        np.stack([preds[m][idx] for m in shown])),
        },
        coords={"ex_method": shown},
    )


def run_and_record(cfg: RealConfig, profile: str, *, progress: bool | None = None):
    """:func:`run` and save the record ``mads/real``."""
    return common.run_and_record(run, cfg, profile, "real", cfg.datasets, progress=progress)


def table(ds: xr.Dataset):
    """Table M1 as a DataFrame: rows dataset x method, columns metric, ``mean ± sd`` over seeds."""
    import pandas as pd

    rows = {}
    for d in ds["dataset"].values:
        for m in ds["method"].values:
            sel = {"dataset": d, "method": m}
            e = ds["error"].sel(sel)
            rows[(str(d), common.LABELS.get(str(m), str(m)))] = {
                k.upper() if k != "max" else "Max": _ms(e.sel(metric=k).values)
                for k in common.METRICS
            }
            cost = (ds["fit_s"] + ds["impute_s"]).sel(sel).mean()
            rows[(str(d), common.LABELS.get(str(m), str(m)))]["fit + impute (s)"] = (
                f"{float(cost):.1f}")
    return pd.DataFrame(rows).T


def _ms(v: np.ndarray) -> str:
    v = np.asarray(v, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return "—"
    return f"{v.mean():.3f} ± {v.std(ddof=1):.3f}" if v.size > 1 else f"{v.mean():.3f}"
