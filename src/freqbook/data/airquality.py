"""Air-quality data for the MADS chapter: Beijing multi-site (UCI 501) and Italy (UCI 360).

Own loaders reproducing the benchpots preprocessing described in the spec (``papers/mads.md``
4.2), so CI needs neither tsdb nor a network:

* **Beijing**: 12 station CSVs, 11 numeric measurements each (``wd`` dropped) -> ``(35064, 132)``
  hourly; months 1-28 train, 29-38 validation, 39-48 test; non-overlapping windows of
  ``n_steps`` (24: 852 / 305 / 304 windows);
* **Italy**: ``;``-separated, ``,`` decimals, empty rows and columns dropped, ``-200`` -> NaN
  (benchpots does not do this), 13 numeric features; last 20 % test, previous 20 % validation;
  windows of ``n_steps`` (12: 467 / 155 / 155).

Scaling (z-score with training statistics) is done by the caller
(:func:`freqbook.data.missingness.standardise`).
"""

from __future__ import annotations

import io
import lzma
import tarfile
from dataclasses import dataclass

import numpy as np

from freqbook.data.registry import fetch

BEIJING = "mads/beijing_multisite_air_quality/PRSA_Data_20130301-20170228.tar.xz"
ITALY = "mads/italy_air_quality/AirQualityUCI.csv.xz"
BEIJING_COLUMNS = ("PM2.5", "PM10", "SO2", "NO2", "CO", "O3", "TEMP", "PRES", "DEWP", "RAIN",
                   "WSPM")
DATASETS = ("beijing", "italy")


@dataclass(frozen=True)
class Splits:
    """Raw (unscaled) windows ``(N, n_steps, D)`` with NaN for originally missing values."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    features: tuple[str, ...]


def _windows(a: np.ndarray, n_steps: int) -> np.ndarray:
    n = a.shape[0] // n_steps
    return a[: n * n_steps].reshape(n, n_steps, a.shape[1])


def beijing_table():
    """``(frame of 35064 hourly rows x 132 features, month index 1..48 per row)``."""
    import pandas as pd

    frames = []
    with tarfile.open(fetch(BEIJING), mode="r:xz") as tar:
        members = sorted((m for m in tar.getmembers() if m.name.endswith(".csv")),
                         key=lambda m: m.name)
        for member in members:
            df = pd.read_csv(io.BytesIO(tar.extractfile(member).read()))
            station = str(df["station"].iloc[0])
            frames.append(df[list(BEIJING_COLUMNS)].add_prefix(f"{station} ").assign(
                _y=df["year"], _m=df["month"]))
    if len(frames) != 12:
        raise ValueError(f"Beijing archive should hold 12 station CSVs, found {len(frames)}")
    ym = frames[0][["_y", "_m"]]
    table = pd.concat([f.drop(columns=["_y", "_m"]) for f in frames], axis=1)
    month = (ym["_y"] - 2013) * 12 + ym["_m"] - 2  # 2013-03 -> 1
    return table, month.to_numpy()


def beijing(n_steps: int = 24) -> Splits:
    """Beijing windows: months 1-28 / 29-38 / 39-48 (benchpots split)."""
    table, month = beijing_table()
    a = table.to_numpy(dtype=np.float64)
    parts = [a[(month >= lo) & (month <= hi)] for lo, hi in ((1, 28), (29, 38), (39, 48))]
    w = [_windows(p, n_steps) for p in parts]
    return Splits(w[0], w[1], w[2], tuple(table.columns))


def italy_table():
    """The Italian file as a frame of 13 numeric features, ``-200`` replaced by NaN."""
    import pandas as pd

    with lzma.open(fetch(ITALY), "rt", newline="") as fh:
        df = pd.read_csv(fh, sep=";", decimal=",")
    df = df.dropna(axis=1, how="all").dropna(axis=0, how="all")
    df = df.drop(columns=["Date", "Time"]).astype(np.float64)
    return df.mask(df == -200.0)


def italy(n_steps: int = 12) -> Splits:
    """Italy windows: first 60 % train, next 20 % validation, last 20 % test (benchpots)."""
    df = italy_table()
    a = df.to_numpy()
    n = a.shape[0]
    n_test = int(n * 0.2)
    n_val = int(n * 0.2)
    train, val, test = a[: n - n_test - n_val], a[n - n_test - n_val: n - n_test], a[n - n_test:]
    return Splits(_windows(train, n_steps), _windows(val, n_steps), _windows(test, n_steps),
                  tuple(df.columns))


def load(name: str, n_steps: int | None = None) -> Splits:
    """``beijing`` (default 24 steps) or ``italy`` (default 12 steps)."""
    if name == "beijing":
        return beijing(n_steps or 24)
    if name == "italy":
        return italy(n_steps or 12)
    raise ValueError(f"unknown air-quality dataset {name!r}; valid: {', '.join(DATASETS)}")
