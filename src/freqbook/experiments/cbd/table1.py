"""Table 1 of the CBD paper: linear-probe and fine-tune accuracy, vanilla MTM vs CBD.

For every dataset and seed: pre-train vanilla MTM (Table 2 row 1: temporal decoder, ``L_T^re``
only) and CBD (both decoders, the full Eq. 14) on the TRAIN split without labels; then

* **linear probe** - multinomial logistic regression on the frozen, mean-pooled encoder (trained
  on all of TRAIN, scored on TEST; no model selection at all: the last pre-training epoch is
  used); TimeMAE's one-vs-rest probe is scored too (``lp_acc_ovr``), so the difference of the
  two protocols is measured;
* **fine-tune** - encoder + linear head on 80 % of TRAIN, epoch chosen on the other 20 %
  (the base code selects on TEST; spec pitfall P6), scored on TEST;
* anchors on the same splits: the same probe on a *randomly initialised* encoder, the
  majority-class rate of TEST (``chance``), and MiniRocket (aeon's ``MiniRocketClassifier``,
  :mod:`.minirocket`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

import numpy as np
import xarray as xr

from freqbook.data.ucr import stratified_split
from freqbook.experiments.cbd import common
from freqbook.experiments.cbd.minirocket import minirocket_accuracy
from freqbook.experiments.cbd.probe import evaluate_probe, finetune
from freqbook.experiments.cbd.training import OptimConfig, encode, pretrain
from freqbook.models.cbd import CBDModel, LossWeights, ModelConfig, variant
from freqbook.profiles import config_for as _config_for
from freqbook.train import default_device, seed_everything

METHODS = ("mtm", "cbd")
METHOD_LABELS = {"mtm": "vanilla MTM", "cbd": "CBD"}


@dataclass(frozen=True)
class Table1Config:
    """Settings of the Table 1 experiment (one instance per profile, see :data:`PROFILES`).

    Attributes
    ----------
    datasets, seeds
        Archive datasets (offline ones, :data:`freqbook.data.ucr.DATASETS`) and seeds.
    model, loss, optim
        Architecture, Eq. 14 weights and the pre-training optimiser (epochs included).
    epochs_override
        ``(dataset, epochs)`` pairs replacing ``optim.epochs`` for that dataset.
    finetune, finetune_datasets
        Fine-tuning optimiser (``None``: no fine-tuning) and the datasets it runs on
        (``()``: all).
    val_fraction
        Share of TRAIN held out to choose the fine-tuning epoch.
    minirocket_features, minirocket_seeds
        MiniRocket feature count (0: no MiniRocket) and on how many of the seeds it runs.
    normalize
        ``"channel"`` (training-split statistics) or ``"none"``.
    """

    datasets: tuple[str, ...] = ("FingerMovements", "ArticularyWordRecognition", "ECG5000")
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    model: ModelConfig = common.PAPER_MODEL
    loss: LossWeights = common.DEFAULT_LOSS
    optim: OptimConfig = common.PAPER_OPTIM
    epochs_override: tuple[tuple[str, int], ...] = ()
    finetune: OptimConfig | None = common.PAPER_OPTIM
    finetune_datasets: tuple[str, ...] = ()
    val_fraction: float = 0.2
    minirocket_features: int = 10_000
    minirocket_seeds: int = 5
    normalize: str = "channel"
    methods: tuple[str, ...] = field(default=METHODS)

    def __post_init__(self) -> None:
        common.check_datasets(self.datasets)
        bad = [m for m in self.methods if m not in METHODS]
        if bad:
            raise ValueError(f"unknown methods {bad}; valid: {', '.join(METHODS)}")


PROFILES: dict[str, Table1Config] = {
    "smoke": Table1Config(datasets=("BasicMotions",), seeds=(0, 1), model=common.SMOKE_MODEL,
                          optim=common.SMOKE_OPTIM,
                          finetune=OptimConfig(lr=1e-3, batch_size=64, epochs=3),
                          minirocket_features=840),
    # ~10 minutes with one torch thread on a machine shared with other jobs (spec P13);
    # MiniRocket (aeon) on every seed: seconds per dataset and seed once numba has compiled
    "cpu": Table1Config(seeds=(0, 1, 2), model=common.CPU_MODEL, optim=common.CPU_OPTIM,
                        epochs_override=(("FingerMovements", 30), ("ECG5000", 20)),
                        finetune=OptimConfig(lr=1e-3, batch_size=64, epochs=15)),
    "paper": Table1Config(),
}


#: ``config_for(profile, seed=0)``: the profile's config, seeds shifted to start at ``seed``
config_for = partial(_config_for, PROFILES)


def build(cfg: Table1Config, method: str, n_channels: int, length: int
          ) -> tuple[CBDModel, LossWeights]:
    """Model and loss weights of ``method`` (``mtm`` = Table 2 row 1, ``cbd`` = full model)."""
    m_cfg, w = variant(method, cfg.model, cfg.loss)
    return CBDModel(n_channels, length, m_cfg), w


def run(cfg: Table1Config, *, progress: bool | None = None) -> xr.Dataset:
    """Pre-train, probe and fine-tune every (dataset, method, seed); returns the record.

    Returns
    -------
    xarray.Dataset
        ``lp_acc, lp_f1, lp_acc_ovr, ft_acc, ft_acc_last, ft_epoch, pretrain_s,
        final_loss(dataset, method, seed)``; ``loss(dataset, method, seed, epoch)`` (NaN past a
        dataset's epochs);
        ``random_lp_acc, minirocket_acc(dataset, seed)``; ``chance, n_train, n_test(dataset)``.
    """
    device = default_device()
    nd, nm, ns = len(cfg.datasets), len(cfg.methods), len(cfg.seeds)
    max_ep = max([cfg.optim.epochs, *[e for _, e in cfg.epochs_override]])
    shape = (nd, nm, ns)
    lp, f1, ft, ft_last, ft_ep, walls, final, ovr = (np.full(shape, np.nan) for _ in range(8))
    curves = np.full((*shape, max_ep), np.nan)
    rnd, mr = np.full((nd, ns), np.nan), np.full((nd, ns), np.nan)
    chance, n_tr, n_te = np.zeros(nd), np.zeros(nd, np.int64), np.zeros(nd, np.int64)
    for d, name in enumerate(cfg.datasets):
        data = common.prepare(name, cfg.normalize)
        chance[d], n_tr[d], n_te[d] = data.chance, data.y_train.size, data.y_test.size
        opt = common.epochs_for(cfg.optim, name, cfg.epochs_override)
        do_ft = cfg.finetune is not None and (not cfg.finetune_datasets
                                              or name in cfg.finetune_datasets)
        for s, seed in enumerate(cfg.seeds):
            tr_idx, va_idx = stratified_split(data.y_train, cfg.val_fraction, seed)
            for m, method in enumerate(cfg.methods):
                seed_everything(seed)
                model, weights = build(cfg, method, data.n_channels, data.length)
                model.to(device)
                if m == 0:  # the untrained encoder as a floor (same architecture for both)
                    rnd[d, s] = evaluate_probe(encode(model, data.X_train), data.y_train,
                                               encode(model, data.X_test), data.y_test)[0]
                hist = pretrain(model, data.X_train, weights, opt, seed,
                                desc=f"{name} {method} s{seed}", progress=progress)
                curves[d, m, s, : len(hist.loss)] = hist.loss
                walls[d, m, s], final[d, m, s] = hist.wall_s, hist.loss[-1]
                f_tr, f_te = encode(model, data.X_train), encode(model, data.X_test)
                lp[d, m, s], f1[d, m, s] = evaluate_probe(f_tr, data.y_train, f_te, data.y_test)
                ovr[d, m, s] = evaluate_probe(f_tr, data.y_train, f_te, data.y_test, "ovr")[0]
                if do_ft:
                    res = finetune(model.encoder, data.n_classes, data.X_train[tr_idx],
                                   data.y_train[tr_idx], data.X_train[va_idx],
                                   data.y_train[va_idx], data.X_test, data.y_test, cfg.finetune,
                                   seed, desc=f"{name} {method} ft s{seed}", progress=progress)
                    ft[d, m, s], ft_last[d, m, s], ft_ep[d, m, s] = (
                        res["acc"], res["acc_last"], res["best_epoch"])
            if cfg.minirocket_features and s < cfg.minirocket_seeds:
                raw = common.prepare(name, "none")  # MiniRocket's own practice: raw series
                mr[d, s] = minirocket_accuracy(raw.X_train, raw.y_train, raw.X_test, raw.y_test,
                                               seed, cfg.minirocket_features)
    dms, pct = ("dataset", "method", "seed"), {"units": "%"}
    return xr.Dataset(
        {
            "lp_acc": (dms, lp, {**pct, "long_name": "linear-probe test accuracy"}),
            "lp_f1": (dms, f1, {**pct, "long_name": "linear-probe macro-F1"}),
            "lp_acc_ovr": (dms, ovr, {**pct, "long_name": "linear-probe accuracy, one-vs-rest "
                                                          "(TimeMAE's probe)"}),
            "probe_ovr_effect": (dms, ovr - lp, {"units": "points", "long_name":
                                                 "one-vs-rest minus multinomial probe accuracy"}),
            "ft_acc": (dms, ft, {**pct, "long_name": "fine-tune test accuracy, val-chosen epoch"}),
            "ft_acc_last": (dms, ft_last, {**pct, "long_name": "fine-tune test acc, last epoch"}),
            "ft_epoch": (dms, ft_ep, {"long_name": "fine-tune epoch chosen on validation"}),
            "pretrain_s": (dms, walls, {"units": "s"}),
            "final_loss": (dms, final, {"long_name": "last-epoch mean pre-training loss"}),
            "loss": ((*dms, "epoch"), curves, {"long_name": "pre-training loss (epoch mean)"}),
            "random_lp_acc": (("dataset", "seed"), rnd, {**pct, "long_name": "probe, untrained"}),
            "minirocket_acc": (("dataset", "seed"), mr, pct),
            "chance": (("dataset",), chance,
                       {**pct, "long_name": "majority-class rate of the TEST labels"}),
            "n_train": (("dataset",), n_tr),
            "n_test": (("dataset",), n_te),
            "loss_ratio": (dms, final / curves[..., 0], {"long_name": "last / first epoch loss"}),
            "lp_over_chance": (dms, lp - chance[:, None, None], {"units": "points"}),
            "lp_gain_over_untrained": (dms, lp - rnd[:, None, :], {"units": "points"}),
        },
        coords={"dataset": list(cfg.datasets), "method": list(cfg.methods),
                "seed": list(cfg.seeds), "epoch": np.arange(1, max_ep + 1)},
    )


def run_and_record(cfg: Table1Config, profile: str, *, progress: bool | None = None):
    """:func:`run` and save the record ``cbd/table1``; returns ``(ds, path)``."""
    return common.record(run, cfg, profile, "table1", cfg.datasets, progress=progress)
