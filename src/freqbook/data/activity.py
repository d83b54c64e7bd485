"""Human Activity ("Localization Data for Person Activity", UCI id 196) for the MADS chapter.

Preprocessing follows the Latent-ODE code's description in the spec (``papers/mads.md`` 4.1),
re-implemented here:

1. per recording, ``time = round((ticks - first ticks) / 1e5)`` (10 ms bins);
2. 12 channels = 4 tags x (x, y, z); readings of one tag in one bin are averaged; a bin is one
   time point, and only bins with a reading exist (irregular sampling);
3. windows of 50 consecutive time points, stride 25, emitted while ``offset + 50 < n_points``;
   times re-based to 0 per window;
4. 80/20 split with ``sklearn.model_selection.train_test_split(train_size=0.8,
   random_state=42, shuffle=True)``.

Only recordings A01-A03 are mirrored (``mads/human_activity/...subset_A01-A03.csv.xz``,
16 486 rows -> 655 windows); the full file is ~10x larger (see the MANIFEST).
"""

from __future__ import annotations

import lzma
from dataclasses import dataclass

import numpy as np

from freqbook.data.registry import fetch

NAME = "mads/human_activity/ConfLongDemo_JSI_subset_A01-A03.csv.xz"
TAGS = ("010-000-024-033", "010-000-030-096", "020-000-033-111", "020-000-032-221")
TAG_NAMES = ("left ankle", "right ankle", "chest", "belt")
CHANNELS = tuple(f"{tag} {axis}" for tag in TAG_NAMES for axis in "xyz")
WINDOW, STRIDE = 50, 25


@dataclass(frozen=True)
class ActivityWindows:
    """Windows before scaling: ``times (N, 50)`` in 10 ms bins from the window start,
    ``values (N, 50, 12)`` in metres (NaN where the tag was not seen), ``observed`` mask and the
    recording of each window."""

    times: np.ndarray
    values: np.ndarray
    observed: np.ndarray
    recording: np.ndarray


def read_rows():
    """The mirrored rows as a pandas DataFrame (columns of the subset's header)."""
    import pandas as pd

    with lzma.open(fetch(NAME), "rt") as fh:
        return pd.read_csv(fh, skipinitialspace=True)


def _recording_points(df) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Time points, averaged values and mask of one recording (Latent-ODE steps 1-2)."""
    ticks = df["timestamp"].to_numpy(dtype=np.int64)
    t = np.round((ticks - ticks[0]) / 1e5).astype(np.int64)
    points, inverse = np.unique(t, return_inverse=True)
    sums = np.zeros((points.size, 12))
    counts = np.zeros((points.size, 12))
    tag_index = {tag: k for k, tag in enumerate(TAGS)}
    tag = df["tag_indicator"].map(tag_index).to_numpy()
    if np.isnan(tag.astype(float)).any():
        raise ValueError("Human Activity file has an unknown tag id")
    xyz = df[["x_coordinate", "y_coordinate", "z_coordinate"]].to_numpy(dtype=np.float64)
    for axis in range(3):
        cols = 3 * tag.astype(int) + axis
        np.add.at(sums, (inverse, cols), xyz[:, axis])
        np.add.at(counts, (inverse, cols), 1.0)
    observed = counts > 0
    values = np.where(observed, sums / np.maximum(counts, 1), np.nan)
    return points.astype(np.float64), values, observed


def windows(df=None) -> ActivityWindows:
    """All 50-point windows of every recording (Latent-ODE step 3)."""
    df = read_rows() if df is None else df
    ts, vs, ms, rec = [], [], [], []
    for name, group in df.groupby("sequence_name", sort=True):
        t, v, m = _recording_points(group)
        offset = 0
        while offset + WINDOW < t.size:
            sl = slice(offset, offset + WINDOW)
            ts.append(t[sl] - t[offset])
            vs.append(v[sl])
            ms.append(m[sl])
            rec.append(name)
            offset += STRIDE
    return ActivityWindows(np.stack(ts), np.stack(vs), np.stack(ms), np.array(rec))


def split_indices(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Latent-ODE split: 80/20, ``random_state=42``, shuffled (step 4)."""
    from sklearn.model_selection import train_test_split

    train, test = train_test_split(np.arange(n), train_size=0.8, random_state=42, shuffle=True)
    return np.asarray(train), np.asarray(test)
