"""Pieces shared by the CBD experiments: data preparation, profile settings, saving records."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import xarray as xr

from freqbook.data.ucr import DATASETS, load_dataset, standardize
from freqbook.experiments.cbd.training import OptimConfig
from freqbook.models.cbd import LossWeights, ModelConfig

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
        """Majority-class rate (%) of the TEST labels: the best accuracy a constant prediction
        can reach on TEST (the comparator's ``chance`` for accuracy claims)."""
        return float(100.0 * np.bincount(self.y_test).max() / self.y_test.size)


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
    from freqbook.results.record import file_sha256

    out = {}
    for n in names:
        for split in ("TRAIN", "TEST"):
            key = f"ucr/{n}/{n}_{split}.{DATASETS[n]}"
            out[key] = file_sha256(fetch(key))
    return out


def record(run: Callable[..., xr.Dataset], cfg, profile: str, experiment: str,
           datasets: Sequence[str], *, progress: bool | None = None):
    """:func:`freqbook.results.run_and_record` for record ``cbd/<experiment>`` (one torch thread
    per ``FREQBOOK_THREADS``, data hashes of ``datasets``); returns ``(ds, path)``."""
    from freqbook.results import run_and_record

    return run_and_record(run, cfg, paper="cbd", experiment=experiment, profile=profile,
                          progress=progress, data_sha256=lambda: data_hashes(datasets),
                          threads=True)
