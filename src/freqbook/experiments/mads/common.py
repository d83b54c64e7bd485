"""Shared pieces of the MADS experiments: tasks (train/test splits with masks), method runners,
model sizes per profile and the record helper.

A *task* is a training :class:`~freqbook.data.missingness.ImputationSet` (no artificial
removal: every method trains on the originally observed entries) and a test set whose
``removed`` mask is drawn once per (task, rate, seed) from its own NumPy generator, so every
method is graded on the same entries (spec section 7 items 13-14). Methods only ever receive
``x_input`` (NaN outside the input mask) and the time stamps.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from freqbook.data import activity, airquality, synthetic_sines
from freqbook.data.missingness import ImputationSet, remove, scale_times, standardise
from freqbook.experiments.mads import baselines
from freqbook.experiments.mads.pypots_adapter import DEEP, DeepConfig, fit_impute
from freqbook.metrics.imputation import all_metrics
from freqbook.models.mads import MADS, MADSConfig, TrainConfig, impute, train_mads
from freqbook.train import seed_everything

PAPER = "mads"
METRICS = ("mse", "max", "w2")
METHODS = ("mads", "mean", "locf", "lerp", "saits", "brits", "transformer")
LABELS = {"mads": "MADS", "mean": "Mean", "locf": "LOCF", "lerp": "linear interp.",
          "saits": "SAITS", "brits": "BRITS", "transformer": "Transformer",
          "mads_none": "MADS, no modulator", "mads_shared": "MADS, shared (fixed)",
          "mads_per_series": "MADS, per-series (base)"}
#: MADS model and budget per profile (spec 6.3: smoke k=64, SIREN 64x3, hyper 128)
SMOKE_MODEL = MADSConfig(latent_dim=16, width=16, sine_layers=3, hyper_hidden=32,
                         lambda_w=100.0)
CPU_MODEL = MADSConfig(latent_dim=64, width=64, sine_layers=3, hyper_hidden=128, lambda_w=100.0)
PAPER_MODEL = MADSConfig(lambda_w=100.0)
#: weight penalty on the synthetic sets (spec 6.2 prototype: lambda_w = 1 there; 100 on Human
#: Activity, where stronger penalties generalised better); measured at cpu: 1 beat 100 clearly
SYNTHETIC_LAMBDA_W = 1.0
SMOKE_TRAIN = TrainConfig(steps=20, batch=32, infer_steps=15)
CPU_TRAIN = TrainConfig(steps=400, batch=64, infer_steps=200)
PAPER_TRAIN = TrainConfig(steps=20000, batch=64, infer_steps=1000)
SMOKE_DEEP = DeepConfig(d_model=16, n_layers=1, n_heads=2, d_ffn=16, rnn_hidden=8, epochs=1)
CPU_DEEP = DeepConfig(d_model=32, n_layers=2, n_heads=4, d_ffn=64, rnn_hidden=32, epochs=8)
PAPER_DEEP = DeepConfig(d_model=256, n_layers=2, n_heads=4, d_ffn=128, rnn_hidden=108,
                        epochs=100)


@dataclass(frozen=True)
class Task:
    """A dataset ready for imputation: standardised train/test windows, times in [-1, 1]."""

    name: str
    train: ImputationSet
    test: ImputationSet
    data: dict[str, str] = field(default_factory=dict)


def _regular_times(n: int, t: int) -> np.ndarray:
    return scale_times(np.broadcast_to(np.arange(t, dtype=np.float64), (n, t)), float(t - 1))


def activity_task(rate: float, seed: int, pattern: str = "point",
                  n_train: int | None = None) -> Task:
    """Human Activity subset: 524 / 131 windows (Latent-ODE split), ``rate`` of the test
    windows' observed entries removed; ``n_train`` keeps only the first training windows."""
    w = activity.windows()
    tr, te = activity.split_indices(len(w.times))
    if n_train is not None:
        tr = tr[:n_train]
    xtr, xte, _, _ = standardise(w.values[tr], w.values[te])
    span = float(w.times[tr][:, -1].max())
    rng = np.random.default_rng([seed, 7])
    train = ImputationSet(scale_times(w.times[tr], span), xtr, w.observed[tr],
                          np.zeros_like(w.observed[tr]))
    obs = w.observed[te]
    test = ImputationSet(scale_times(w.times[te], span), xte, obs, remove(obs, rate, rng, pattern))
    return Task("human_activity", train, test, {activity.NAME: _sha(activity.NAME)})


def airquality_task(name: str, rate: float, seed: int, pattern: str = "point") -> Task:
    """Beijing or Italy windows (train / test splits; validation unused), ``rate`` removed."""
    s = airquality.load(name)
    xtr, xte, _, _ = standardise(s.train, s.test)
    otr, ote = ~np.isnan(xtr), ~np.isnan(xte)
    rng = np.random.default_rng([seed, 11])
    train = ImputationSet(_regular_times(*xtr.shape[:2]), xtr, otr, np.zeros_like(otr))
    test = ImputationSet(_regular_times(*xte.shape[:2]), xte, ote, remove(ote, rate, rng, pattern))
    reg = airquality.BEIJING if name == "beijing" else airquality.ITALY
    return Task(f"{name}_air_quality", train, test, {reg: _sha(reg)})


def synthetic_task(config: str, n_train: int, n_test: int, rate: float, seed: int,
                   pattern: str = "point", length: int = 50) -> Task:
    """Synthetic sums of sines (fully observed), ``rate`` of every test window removed."""
    cfg = synthetic_sines.config(config, length)
    rng = np.random.default_rng([seed, 13, list(synthetic_sines.CONFIGS).index(config)])
    t, x = synthetic_sines.generate(cfg, n_train + n_test, rng)
    xtr, xte, _, _ = standardise(x[:n_train], x[n_train:])
    tt = 2.0 * t - 1.0
    otr, ote = np.ones_like(xtr, dtype=bool), np.ones_like(xte, dtype=bool)
    train = ImputationSet(tt[:n_train], xtr, otr, np.zeros_like(otr))
    test = ImputationSet(tt[n_train:], xte, ote, remove(ote, rate, rng, pattern))
    return Task(config, train, test, {})


def _sha(name: str) -> str:
    from freqbook.data.registry import REGISTRY

    return REGISTRY[name].sha256


@dataclass
class MethodResult:
    """Imputation of the test set by one method, with its metrics and CPU/wall cost."""

    pred: np.ndarray
    metrics: dict[str, float]
    fit_s: float
    impute_s: float
    train_mse: float = float("nan")
    model: MADS | None = None


def run_mads(task: Task, model_cfg: MADSConfig, tcfg: TrainConfig, seed: int, *,
             progress: bool | None = None, device: str | torch.device = "cpu") -> MethodResult:
    """Train MADS on the training windows, auto-decode the test windows, grade on ``removed``."""
    seed_everything(seed)
    tr, te = task.train, task.test
    model = MADS(len(tr), tr.values.shape[2], model_cfg).to(device)
    tic = time.perf_counter()
    hist = train_mads(model, tr.times, tr.x_input, tr.input, tcfg, seed=seed,
                      desc=f"MADS {task.name} s{seed}", progress=progress)
    fit_s = time.perf_counter() - tic
    res = impute_with(model, te, tcfg, progress=progress)
    res.fit_s, res.train_mse = fit_s, float(np.mean(hist.metrics["mse"][-20:]))
    return res


def impute_with(model: MADS, test: ImputationSet, tcfg: TrainConfig, *,
                progress: bool | None = None) -> MethodResult:
    """Auto-decode ``test`` with a trained model; metrics on its ``removed`` entries."""
    tic = time.perf_counter()
    pred = impute(model, test.times, test.x_input, test.input, tcfg,
                  progress=progress).cpu().numpy().astype(np.float64)
    wall = time.perf_counter() - tic
    return MethodResult(pred, all_metrics(pred, test.values, test.removed), 0.0, wall, model=model)


def run_baseline(name: str, task: Task, deep: DeepConfig, seed: int) -> MethodResult:
    """A classical (own code) or a PyPOTS baseline on the task."""
    te = task.test
    tic = time.perf_counter()
    if name in DEEP:
        pred = fit_impute(name, task.train.x_input, te.x_input, deep, seed=seed)
    else:
        pred = baselines.impute(name, te.times, te.x_input)
    wall = time.perf_counter() - tic
    pred = np.where(te.input, te.values, pred)  # observed inputs are kept as they are
    return MethodResult(pred, all_metrics(pred, te.values, te.removed), wall, 0.0)


def run_method(name: str, task: Task, model_cfg: MADSConfig, tcfg: TrainConfig, deep: DeepConfig,
               seed: int, *, progress: bool | None = None,
               device: str | torch.device = "cpu") -> MethodResult:
    """``mads`` or a baseline name."""
    if name == "mads":
        return run_mads(task, model_cfg, tcfg, seed, progress=progress, device=device)
    return run_baseline(name, task, deep, seed)


def ranks(values: np.ndarray, axis: int) -> np.ndarray:
    """Average ranks (1 = lowest error) along ``axis``; ties share the mean rank; NaN last."""
    from scipy.stats import rankdata

    v = np.where(np.isfinite(values), values, np.inf)
    return np.apply_along_axis(rankdata, axis, v)


def best_baseline(err: np.ndarray, methods: Sequence[str]) -> np.ndarray:
    """Per trailing position, the smallest error among the non-MADS methods (axis 0 = method)."""
    idx = [i for i, m in enumerate(methods) if not m.startswith("mads")]
    return np.nanmin(err[idx], axis=0)


def data_hashes(datasets: Sequence[str]) -> dict[str, str]:
    """Registry sha256 of the files behind ``datasets`` (synthetic data have none)."""
    names = {"human_activity": [activity.NAME], "italy": [airquality.ITALY],
             "beijing": [airquality.BEIJING]}
    return {n: _sha(n) for d in datasets for n in names.get(d, [])}


def run_and_record(run, cfg, profile: str, experiment: str, datasets: Sequence[str] = (), *,
                   progress: bool | None = None):
    """Shared :func:`freqbook.results.run_and_record` for ``mads/<experiment>``."""
    from freqbook.results import run_and_record as record

    return record(run, cfg, paper=PAPER, experiment=experiment, profile=profile,
                  progress=progress, data_sha256=data_hashes(datasets), threads=True)
