"""Table M2: synthetic sums of sines, per-configuration ranks and the average rank.

Four configurations (low/high frequency x low/high dimension, :mod:`freqbook.data.synthetic_sines`)
at one missing rate. Ranks are computed per seed (1 = lowest MSE within a configuration) and
averaged over configurations, so ``avg_rank`` keeps a ``seed`` dimension for the seed-aware
comparator ("best average rank" claim).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import xarray as xr

from freqbook.data.synthetic_sines import CONFIGS
from freqbook.experiments.mads import common
from freqbook.experiments.mads.pypots_adapter import DeepConfig
from freqbook.experiments.mads.real import _methods
from freqbook.models.mads import MADSConfig, TrainConfig
from freqbook.profiles import config_for as _config_for


@dataclass(frozen=True)
class SyntheticConfig:
    """Configurations, sizes, rate, seeds and budgets of Table M2."""

    configs: tuple[str, ...] = tuple(CONFIGS)
    methods: tuple[str, ...] = common.METHODS
    n_train: int = 1024
    n_test: int = 256
    length: int = 50
    rate: float = 0.5
    seeds: tuple[int, ...] = (0, 1, 2)
    model: MADSConfig = common.PAPER_MODEL
    train: TrainConfig = common.PAPER_TRAIN
    deep: DeepConfig = common.PAPER_DEEP

    def __post_init__(self) -> None:
        bad = [c for c in self.configs if c not in CONFIGS]
        if bad:
            raise ValueError(f"unknown synthetic configurations {bad}; valid: {', '.join(CONFIGS)}")


PROFILES = {
    "smoke": SyntheticConfig(configs=("lowf-lowd", "highf-lowd"),
                             methods=("mads", "mean", "locf", "lerp", "saits"), n_train=64,
                             n_test=16, seeds=(0,), model=common.SMOKE_MODEL,
                             train=common.SMOKE_TRAIN, deep=common.SMOKE_DEEP),
    # BRITS (the costliest PyPOTS model on CPU) left out at cpu to keep the chapter's budget
    "cpu": SyntheticConfig(methods=tuple(m for m in common.METHODS if m != "brits"),
                           n_train=256, n_test=64,
                           model=replace(common.CPU_MODEL, lambda_w=common.SYNTHETIC_LAMBDA_W),
                           train=common.CPU_TRAIN, deep=common.CPU_DEEP),
    "paper": SyntheticConfig(
        model=replace(common.PAPER_MODEL, lambda_w=common.SYNTHETIC_LAMBDA_W)),
}


def config_for(profile: str, seed: int = 0) -> SyntheticConfig:
    """The profile's config, seeds starting at ``seed``."""
    return _config_for(PROFILES, profile, seed)


def run(cfg: SyntheticConfig, *, progress: bool | None = None, device: str = "cpu") -> xr.Dataset:
    """Every configuration x method x seed.

    Returns
    -------
    xarray.Dataset
        ``error(config, method, metric, seed)``, ``rank(config, method, seed)`` (by MSE),
        ``avg_rank(method, seed)``, ``fit_s / impute_s(config, method, seed)``.
    """
    methods = _methods(cfg)
    nc, nm, ns, nk = len(cfg.configs), len(methods), len(cfg.seeds), len(common.METRICS)
    err = np.full((nc, nm, nk, ns), np.nan)
    fit_s, imp_s = np.full((nc, nm, ns), np.nan), np.full((nc, nm, ns), np.nan)
    for c, name in enumerate(cfg.configs):
        for s, seed in enumerate(cfg.seeds):
            t = common.synthetic_task(name, cfg.n_train, cfg.n_test, cfg.rate, seed,
                                      length=cfg.length)
            for m, method in enumerate(methods):
                res = common.run_method(method, t, cfg.model, cfg.train, cfg.deep, seed,
                                        progress=progress, device=device)
                err[c, m, :, s] = [res.metrics[k] for k in common.METRICS]
                fit_s[c, m, s], imp_s[c, m, s] = res.fit_s, res.impute_s
    rank = common.ranks(err[:, :, 0, :], axis=1)
    return xr.Dataset(
        {
            "error": (("config", "method", "metric", "seed"), err),
            "rank": (("config", "method", "seed"), rank, {"long_name": "rank by MSE (1 = best)"}),
            "avg_rank": (("method", "seed"), rank.mean(axis=0),
                         {"long_name": "average rank over configurations (by MSE)"}),
            "fit_s": (("config", "method", "seed"), fit_s, {"units": "s"}),
            "impute_s": (("config", "method", "seed"), imp_s, {"units": "s"}),
        },
        coords={"config": list(cfg.configs), "method": list(methods),
                "metric": list(common.METRICS), "seed": list(cfg.seeds)},
        attrs={"rate": cfg.rate, "n_train": cfg.n_train, "n_test": cfg.n_test},
    )


def run_and_record(cfg: SyntheticConfig, profile: str, *, progress: bool | None = None):
    """:func:`run` and save the record ``mads/synthetic``."""
    return common.run_and_record(run, cfg, profile, "synthetic", progress=progress)


def rank_table(ds: xr.Dataset):
    """Per-configuration MSE (mean over seeds) with its rank, and the average rank."""
    import pandas as pd

    mse = ds["error"].sel(metric="mse").mean("seed")
    rank = ds["rank"].mean("seed")
    cols = {}
    for c in ds["config"].values:
        cols[f"{c} MSE"] = [f"{float(mse.sel(config=c)[i]):.3f}"
                            for i in range(ds.sizes["method"])]
        cols[f"{c} rank"] = [f"{float(rank.sel(config=c)[i]):.1f}"
                             for i in range(ds.sizes["method"])]
    avg = ds["avg_rank"]
    cols["average rank"] = [
        f"{float(avg[i].mean()):.2f} ± {float(avg[i].std(ddof=1)):.2f}" if ds.sizes["seed"] > 1
        else f"{float(avg[i].mean()):.2f}" for i in range(ds.sizes["method"])]
    index = [common.LABELS.get(str(m), str(m)) for m in ds["method"].values]
    return pd.DataFrame(cols, index=index).sort_values("average rank")
