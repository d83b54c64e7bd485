"""Pieces shared by the CBD experiments: data preparation, profile settings, saving records."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import xarray as xr

from freqbook.data.ucr import DATASETS, load_dataset, standardize
from freqbook.experiments.cbd.training import OptimConfig
from freqbook.models.cbd import LossWeights, ModelConfig
from freqbook.train import default_device, set_threads

#: the paper's names of the datasets we have offline (Table 1 columns); the others are stand-ins
PAPER_NAMES = {"FingerMovements": "FM", "ArticularyWordRecognition": "AWR",
               "ECG5000": "ECG5000", "BasicMotions": "BasicMotions (not in paper)",
               "JapaneseVowels": "JapaneseVowels (not in paper)"}

#: the paper's settings (spec section 2.5): D 128, 8 + 2 + 2 layers, K 12, AdamW 1e-4, batch 128
PAPER_MODEL = ModelConfig()
PAPER_OPTIM = OptimConfig(lr=1e-4, weight_decay=3e-4, batch_size=128, epochs=100)
#: CPU settings (spec section 6.3): D 64, 4 encoder layers, lr 1e-3 for the short budget,
#: plain post-LN blocks (TimeMAE's alpha = 1e-8 residual scale trains too slowly in 40 epochs)
CPU_MODEL = replace(PAPER_MODEL, d_model=64, enc_layers=4, res_init=None)
CPU_OPTIM = OptimConfig(lr=1e-3, weight_decay=3e-4, batch_size=64, epochs=40)
SMOKE_MODEL = replace(PAPER_MODEL, d_model=32, heads=2, enc_layers=2, td_layers=1,
                      cbd_layers=1, res_init=None)
SMOKE_OPTIM = OptimConfig(lr=1e-3, weight_decay=3e-4, batch_size=64, epochs=6)
DEFAULT_LOSS = LossWeights()


@dataclass(frozen=True)
class Prepared:
    """Standardised splits of one dataset."""

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    n_classes: int

    @property
    def n_channels(self) -> int:  # noqa: D102
        return int(self.X_train.shape[1])

    @property
    def length(self) -> int:  # noqa: D102
        return int(self.X_train.shape[2])

    @property
    def chance(self) -> float:
        """Accuracy (%) of always predicting the training split's majority class."""
        major = np.bincount(self.y_train).argmax()
        return float(100.0 * np.mean(self.y_test == major))


def check_datasets(names: Sequence[str]) -> None:
    """One-line error for a dataset the book does not have offline."""
    bad = [n for n in names if n not in DATASETS]
    if bad:
        raise ValueError(f"unknown datasets {bad}; valid: {', '.join(DATASETS)}")


def prepare(name: str, normalize: str = "channel") -> Prepared:
    """Load ``name`` and standardise it with training statistics (NaN padding -> 0)."""
    ds = load_dataset(name)
    tr, te = standardize(ds.X_train, ds.X_test, mode=normalize)
    return Prepared(name, tr, ds.y_train, te, ds.y_test, ds.n_classes)


def epochs_for(opt: OptimConfig, name: str, overrides: tuple[tuple[str, int], ...]
               ) -> OptimConfig:
    """``opt`` with the epoch count of ``name`` from ``overrides`` (pairs) if listed."""
    table = dict(overrides)
    return replace(opt, epochs=table[name]) if name in table else opt


def data_hashes(names: Sequence[str]) -> dict[str, str]:
    """sha256 of the archive files of ``names`` (for the record's provenance)."""
    from freqbook.data import fetch

    out = {}
    for n in names:
        for split in ("TRAIN", "TEST"):
            key = f"ucr/{n}/{n}_{split}.{DATASETS[n]}"
            out[key] = hashlib.sha256(fetch(key).read_bytes()).hexdigest()
    return out


def run_and_record(run: Callable[..., xr.Dataset], cfg, profile: str, experiment: str,
                   datasets: Sequence[str], *, progress: bool | None = None):
    """Set threads, ``run(cfg)``, save record ``cbd/<experiment>``; returns ``(ds, path)``."""
    from freqbook.results import save_record

    set_threads()
    device = default_device()
    tic = time.perf_counter()
    ds = run(cfg, progress=progress)
    wall = time.perf_counter() - tic
    seeds = list(getattr(cfg, "seeds", (0,)))
    path = save_record(ds, paper="cbd", experiment=experiment, profile=profile, config=cfg,
                       seeds=seeds, wall_s=wall, device=str(device),
                       data_sha256=data_hashes(datasets))
    return ds, path
