"""The method page: one MADS fit on a synthetic configuration, seen from the inside.

Records the training curve (masked MSE, ``mean(z^2)``, ``mean(theta^2)``), the size of what the
hypernetwork generates per series, how different the generated SIRENs of two series are, the
auto-decoding curve on unseen series, and a few imputed test windows next to linear
interpolation.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch
import xarray as xr

from freqbook.experiments.mads import common
from freqbook.models.mads import MADSConfig, TrainConfig, infer_latents, predict, train_mads
from freqbook.profiles import config_for as _config_for
from freqbook.train import seed_everything


@dataclass(frozen=True)
class MethodConfig:
    """Synthetic configuration, sizes, seeds and budget of the method page."""

    synthetic: str = "lowf-lowd"
    n_train: int = 1024
    n_test: int = 256
    rate: float = 0.5
    seeds: tuple[int, ...] = (0,)
    model: MADSConfig = common.PAPER_MODEL
    train: TrainConfig = common.PAPER_TRAIN
    examples: int = 3


PROFILES = {
    "smoke": MethodConfig(n_train=64, n_test=16, model=common.SMOKE_MODEL,
                          train=common.SMOKE_TRAIN),
    "cpu": MethodConfig(n_train=256, n_test=64,
                        model=replace(common.CPU_MODEL, lambda_w=common.SYNTHETIC_LAMBDA_W),
                        train=common.CPU_TRAIN),
    "paper": MethodConfig(model=replace(common.PAPER_MODEL, lambda_w=common.SYNTHETIC_LAMBDA_W)),
}


def config_for(profile: str, seed: int = 0) -> MethodConfig:
    """The profile's config, seeds starting at ``seed``."""
    return _config_for(PROFILES, profile, seed)


def run(cfg: MethodConfig, *, progress: bool | None = None, device: str = "cpu") -> xr.Dataset:
    """Train, auto-decode and impute; returns curves, sizes, examples and metrics per seed."""
    ns, k = len(cfg.seeds), len(common.METRICS)
    err = np.full((2, k, ns), np.nan)
    curves = np.full((3, cfg.train.steps, ns), np.nan)
    infer_curve = np.full((cfg.train.infer_steps, ns), np.nan)
    distinct = np.full(ns, np.nan)
    ex = None
    n_params = 0
    for s, seed in enumerate(cfg.seeds):
        seed_everything(seed)
        t = common.synthetic_task(cfg.synthetic, cfg.n_train, cfg.n_test, cfg.rate, seed)
        from freqbook.models.mads import MADS

        model = MADS(len(t.train), t.train.values.shape[2], cfg.model).to(device)
        hist = train_mads(model, t.train.times, t.train.x_input, t.train.input, cfg.train,
                          seed=seed, progress=progress)
        for i, key in enumerate(("mse", "latent", "theta")):
            curves[i, :, s] = hist.metrics[key]
        with torch.no_grad():
            params = model.hyper(model.latents[:2])
        n_params = sum(int(np.prod(p.shape[1:])) for p in params.values())
        flat = torch.cat([p.reshape(2, -1) for p in params.values()], dim=1)
        distinct[s] = float((flat[0] - flat[1]).norm() / flat[0].norm())
        z, ihist = infer_latents(model, t.test.times, t.test.x_input, t.test.input, cfg.train,
                                 progress=progress)
        infer_curve[:, s] = ihist.metrics["mse"]
        pred = predict(model, z, t.test.times).cpu().numpy().astype(np.float64)
        lerp = common.run_baseline("lerp", t, None, seed)  # type: ignore[arg-type]
        from freqbook.metrics.imputation import all_metrics

        m = all_metrics(pred, t.test.values, t.test.removed)
        err[0, :, s] = [m[key] for key in common.METRICS]
        err[1, :, s] = [lerp.metrics[key] for key in common.METRICS]
        if s == 0:
            idx = np.arange(min(cfg.examples, len(t.test)))
            ex = {"ex_times": (("ex", "step"), t.test.times[idx]),
                  "ex_truth": (("ex", "step", "channel"), t.test.values[idx]),
                  "ex_input": (("ex", "step", "channel"), t.test.input[idx].astype(np.int8)),
                  "ex_pred": (("ex_method", "ex", "step", "channel"),
                              np.stack([pred[idx], lerp.pred[idx]]))}
    ds = xr.Dataset(
        {
            "error": (("method", "metric", "seed"), err),
            "train_curve": (("term", "step_index", "seed"), curves),
            "infer_curve": (("infer_step", "seed"), infer_curve),
            "relative_weight_difference": (("seed",), distinct, {
                "long_name": "||theta_1 - theta_2|| / ||theta_1|| of two training series"}),
            "generated_parameters": ((), n_params),
            "latent_dim": ((), cfg.model.latent_dim),
            **(ex or {}),
        },
        coords={"method": ["mads", "lerp"], "metric": list(common.METRICS),
                "term": ["mse", "latent", "theta"], "seed": list(cfg.seeds),
                "ex_method": ["mads", "lerp"]},
        attrs={"synthetic": cfg.synthetic, "rate": cfg.rate},
    )
    return ds


def run_and_record(cfg: MethodConfig, profile: str, *, progress: bool | None = None):
    """:func:`run` and save the record ``mads/method``."""
    return common.run_and_record(run, cfg, profile, "method", progress=progress)
