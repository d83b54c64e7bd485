"""Investigations of MADS (Table M3, Fig. M3): where and why it wins or loses.

Four studies, one record ``mads/investigate``:

* **regularisation sweep** on Human Activity: ``lambda_w`` (weight penalty on the generated SIREN
  parameters), test error and training fit per seed - the prototype saw stronger penalties
  generalise monotonically better (spec 6.2);
* **number of training windows** on Human Activity: MADS test MSE against how many training
  windows it learns its prior from, with the (training-free) linear interpolation and Mean as
  references;
* **modulator ablation** on a synthetic configuration: ``per_series`` (*base*), ``shared``
  (*fixed*), ``none`` (HyperTime-like) and ``none`` with the SIREN hidden-layer init (spec 7.17,
  so that a failure without modulator is not an initialisation artefact);
* **missing rate** on the same synthetic configuration: MADS (trained once per seed, auto-decoded
  at every rate) against the classical baselines; plus block missingness at one rate
  (**extension**: the paper tested random missingness only).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import xarray as xr

from freqbook.data.missingness import remove
from freqbook.experiments.mads import common
from freqbook.experiments.mads.baselines import CLASSICAL
from freqbook.models.mads import MADSConfig, TrainConfig
from freqbook.profiles import config_for as _config_for

VARIANTS = ("per_series", "shared", "none", "none_siren_init")


@dataclass(frozen=True)
class InvestigateConfig:
    """Grids, seeds and budgets of the four studies."""

    lambdas: tuple[float, ...] = (0.0, 1.0, 100.0, 1000.0, 10000.0)
    n_windows: tuple[int, ...] = (64, 128, 256, 524)
    variants: tuple[str, ...] = VARIANTS
    rates: tuple[float, ...] = (0.1, 0.3, 0.5, 0.7, 0.9)
    ha_rate: float = 0.5
    block_rate: float = 0.5
    synthetic: str = "lowf-lowd"
    n_train: int = 1024
    n_test: int = 256
    seeds: tuple[int, ...] = (0, 1, 2)
    model: MADSConfig = common.PAPER_MODEL
    train: TrainConfig = common.PAPER_TRAIN

    def __post_init__(self) -> None:
        bad = [v for v in self.variants if v not in VARIANTS]
        if bad:
            raise ValueError(f"unknown modulator variants {bad}; valid: {', '.join(VARIANTS)}")


PROFILES = {
    "smoke": InvestigateConfig(lambdas=(0.0, 100.0), n_windows=(32, 64),
                               variants=("per_series", "none"), rates=(0.3, 0.7), n_train=64,
                               n_test=16, seeds=(0,), model=common.SMOKE_MODEL,
                               train=common.SMOKE_TRAIN),
    "cpu": InvestigateConfig(lambdas=(0.0, 100.0, 10000.0), n_windows=(128,),
                             rates=(0.3, 0.5, 0.7, 0.9), n_train=256, n_test=64,
                             model=common.CPU_MODEL, train=common.CPU_TRAIN),
    "paper": InvestigateConfig(),
}


def config_for(profile: str, seed: int = 0) -> InvestigateConfig:
    """The profile's config, seeds starting at ``seed``."""
    return _config_for(PROFILES, profile, seed)


def _variant(model: MADSConfig, name: str) -> MADSConfig:
    model = replace(model, lambda_w=common.SYNTHETIC_LAMBDA_W)
    if name == "none_siren_init":
        return replace(model, modulator="none", hidden_init="siren")
    return replace(model, modulator=name)


def run(cfg: InvestigateConfig, *, progress: bool | None = None,
        device: str = "cpu") -> xr.Dataset:
    """All four studies; returns the record (see the module docstring for the variables)."""
    nk, ns = len(common.METRICS), len(cfg.seeds)
    lam_err = np.full((len(cfg.lambdas), nk, ns), np.nan)
    lam_fit = np.full((len(cfg.lambdas), ns), np.nan)
    n_err = np.full((len(cfg.n_windows), nk, ns), np.nan)
    ref_err = np.full((len(CLASSICAL), nk, ns), np.nan)
    var_err = np.full((len(cfg.variants), nk, ns), np.nan)
    var_fit = np.full((len(cfg.variants), ns), np.nan)
    methods = ("mads", *CLASSICAL)
    rate_err = np.full((len(cfg.rates), len(methods), nk, ns), np.nan)
    block_err = np.full((len(methods), nk, ns), np.nan)
    for s, seed in enumerate(cfg.seeds):
        ha = common.activity_task(cfg.ha_rate, seed)
        full = len(ha.train)
        for i, lam in enumerate(cfg.lambdas):
            res = common.run_mads(ha, replace(cfg.model, lambda_w=lam), cfg.train, seed,
                                  progress=progress, device=device)
            lam_err[i, :, s] = [res.metrics[k] for k in common.METRICS]
            lam_fit[i, s] = res.train_mse
        for i, n in enumerate(cfg.n_windows):
            if n >= full and cfg.model.lambda_w in cfg.lambdas:
                n_err[i, :, s] = lam_err[cfg.lambdas.index(cfg.model.lambda_w), :, s]
                continue
            sub = common.Task(ha.name, ha.train.subset(slice(0, n)), ha.test, ha.data)
            res = common.run_mads(sub, cfg.model, cfg.train, seed, progress=progress,
                                  device=device)
            n_err[i, :, s] = [res.metrics[k] for k in common.METRICS]
        for i, name in enumerate(CLASSICAL):
            res = common.run_baseline(name, ha, None, seed)  # type: ignore[arg-type]
            ref_err[i, :, s] = [res.metrics[k] for k in common.METRICS]

        syn = common.synthetic_task(cfg.synthetic, cfg.n_train, cfg.n_test, cfg.rates[0], seed)
        trained = None
        for i, name in enumerate(cfg.variants):
            res = common.run_mads(syn, _variant(cfg.model, name), cfg.train, seed,
                                  progress=progress, device=device)
            var_err[i, :, s] = [res.metrics[k] for k in common.METRICS]
            var_fit[i, s] = res.train_mse
            if name == cfg.model.modulator:
                trained = res.model
        if trained is None:
            trained = common.run_mads(syn, _variant(cfg.model, cfg.model.modulator), cfg.train,
                                      seed, progress=progress,
                                      device=device).model
        rng = np.random.default_rng([seed, 17])
        obs = syn.test.observed
        masks = [(r, remove(obs, r, rng, "point")) for r in cfg.rates]
        masks.append((cfg.block_rate, remove(obs, cfg.block_rate, rng, "block")))
        for r, (_, removed) in enumerate(masks):
            test = syn.test.with_removed(removed)
            task = common.Task(syn.name, syn.train, test)
            for m, method in enumerate(methods):
                if method == "mads":
                    res = common.impute_with(trained, test, cfg.train, progress=progress)
                else:
                    res = common.run_baseline(method, task, None, seed)  # type: ignore[arg-type]
                vals = [res.metrics[k] for k in common.METRICS]
                if r < len(cfg.rates):
                    rate_err[r, m, :, s] = vals
                else:
                    block_err[m, :, s] = vals
    return xr.Dataset(
        {
            "lambda_error": (("lambda_w", "metric", "seed"), lam_err),
            "lambda_train_mse": (("lambda_w", "seed"), lam_fit),
            "n_error": (("n_train", "metric", "seed"), n_err),
            "reference_error": (("reference", "metric", "seed"), ref_err),
            "variant_error": (("variant", "metric", "seed"), var_err),
            "variant_train_mse": (("variant", "seed"), var_fit),
            "rate_error": (("rate", "method", "metric", "seed"), rate_err),
            "block_error": (("method", "metric", "seed"), block_err,
                            {"long_name": f"block missingness at rate {cfg.block_rate}"}),
        },
        coords={"lambda_w": list(cfg.lambdas), "n_train": list(cfg.n_windows),
                "reference": list(CLASSICAL), "variant": list(cfg.variants),
                "rate": list(cfg.rates), "method": list(methods),
                "metric": list(common.METRICS), "seed": list(cfg.seeds)},
        attrs={"ha_rate": cfg.ha_rate, "synthetic": cfg.synthetic,
               "default_lambda_w": cfg.model.lambda_w},
    )


def run_and_record(cfg: InvestigateConfig, profile: str, *, progress: bool | None = None):
    """:func:`run` and save the record ``mads/investigate``."""
    return common.run_and_record(run, cfg, profile, "investigate", ["human_activity"],
                                 progress=progress)
