"""Loaders for the UCR (``.tsv``) and UEA (``.ts``) time-series classification archives.

Every file is resolved through :func:`freqbook.data.registry.fetch` (registry names
``ucr/<Name>/<Name>_{TRAIN,TEST}.<ext>``), so its sha256 is checked before it is parsed.
Arrays follow the archive's layout ``(cases, channels, length)``; variable-length series
(JapaneseVowels, SpokenArabicDigits) are NaN-padded at the end to the longest case of the file.

The ``.ts`` reader is a small parser of the sktime/aeon text format (``#`` comments, ``@``
headers, ``@data``, then one case per line with channels separated by ``:`` and values by ``,``,
the class label last). The ``.tsv`` reader reads the UCR 2018 format (label first, tab separated).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from freqbook.data.registry import DataError, fetch

#: archive datasets the book has offline -> file extension
#: (``MANIFEST-cbd.md``, ``MANIFEST-nmvqtsg.md``)
DATASETS: dict[str, str] = {
    "ArticularyWordRecognition": "ts",
    "BasicMotions": "ts",
    "Crop": "tsv",
    "ECG5000": "tsv",
    "FingerMovements": "ts",
    "GunPoint": "tsv",
    "JapaneseVowels": "ts",
}
SPLITS = ("TRAIN", "TEST")


@dataclass(frozen=True)
class Split:
    """One archive split: ``X (n, channels, length)`` float32 (NaN padding) and string labels."""

    X: np.ndarray
    labels: np.ndarray


@dataclass(frozen=True)
class Dataset:
    """Train and test splits with integer labels ``0..n_classes-1`` (classes sorted by name)."""

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    classes: tuple[str, ...]

    @property
    def n_channels(self) -> int:  # noqa: D102
        return int(self.X_train.shape[1])

    @property
    def length(self) -> int:  # noqa: D102
        return int(max(self.X_train.shape[2], self.X_test.shape[2]))

    @property
    def n_classes(self) -> int:  # noqa: D102
        return len(self.classes)


def _check(name: str, split: str) -> None:
    if name not in DATASETS:
        raise DataError(f"unknown UCR/UEA dataset {name!r}; valid: {', '.join(DATASETS)}")
    if split not in SPLITS:
        raise DataError(f"unknown split {split!r}; valid: {', '.join(SPLITS)}")


def parse_ts(text: str, source: str = "<text>") -> Split:
    """Parse the text of a ``.ts`` file.

    Raises
    ------
    DataError
        One line naming ``source`` and the first malformed case.
    """
    cases: list[list[np.ndarray]] = []
    labels: list[str] = []
    in_data = False
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not in_data:
            in_data = line.lower().startswith("@data")
            continue
        *channels, label = line.split(":")
        if not channels:
            raise DataError(f"{source}: line {lineno} has no ':'-separated channels")
        try:
            values = [np.array([float(v) if v not in ("?", "") else np.nan
                                for v in ch.split(",")], dtype=np.float32) for ch in channels]
        except ValueError as err:
            raise DataError(f"{source}: line {lineno}: {err}") from err
        if cases and len(values) != len(cases[0]):
            raise DataError(f"{source}: line {lineno} has {len(values)} channels, "
                            f"expected {len(cases[0])}")
        cases.append(values)
        labels.append(label.strip())
    if not cases:
        raise DataError(f"{source}: no @data section or no cases")
    length = max(len(v) for case in cases for v in case)
    X = np.full((len(cases), len(cases[0]), length), np.nan, dtype=np.float32)
    for i, case in enumerate(cases):
        for c, v in enumerate(case):
            X[i, c, : v.size] = v
    return Split(X, np.array(labels))


def parse_tsv(text: str, source: str = "<text>") -> Split:
    """Parse a UCR 2018 ``.tsv`` file (label in column 0); univariate, so ``channels = 1``."""
    rows = [r.split("\t") for r in text.splitlines() if r.strip()]
    if not rows:
        raise DataError(f"{source}: empty file")
    try:
        labels = np.array([_label_text(r[0]) for r in rows])
        values = np.array([[float(v) if v != "NaN" else np.nan for v in r[1:]] for r in rows],
                          dtype=np.float32)
    except ValueError as err:
        raise DataError(f"{source}: {err} (ragged or non-numeric rows)") from err
    return Split(values[:, None, :], labels)


def _label_text(raw: str) -> str:
    """UCR labels are numbers written as ``1`` or ``1.0000000e+00``: keep one spelling."""
    value = float(raw)
    return str(int(value)) if value.is_integer() else str(value)


def load_split(name: str, split: str) -> Split:
    """Read split ``split`` (``TRAIN``/``TEST``) of archive dataset ``name``.

    Examples
    --------
    >>> s = load_split("BasicMotions", "TRAIN")   # doctest: +SKIP
    >>> s.X.shape
    (40, 6, 100)
    """
    _check(name, split)
    ext = DATASETS[name]
    path = fetch(f"ucr/{name}/{name}_{split}.{ext}")
    text = path.read_text(encoding="utf-8", errors="replace")
    return parse_ts(text, str(path)) if ext == "ts" else parse_tsv(text, str(path))


def load_dataset(name: str) -> Dataset:
    """Both splits of ``name``, labels mapped to integers by the sorted training classes.

    Raises
    ------
    DataError
        Unknown dataset, or a test label that the training split does not have.
    """
    train, test = load_split(name, "TRAIN"), load_split(name, "TEST")
    classes = sorted(set(train.labels.tolist()), key=_class_key)
    index = {c: i for i, c in enumerate(classes)}
    unknown = sorted(set(test.labels.tolist()) - set(index))
    if unknown:
        raise DataError(f"{name}: test labels {unknown[:5]} not in the training split")
    length = max(train.X.shape[2], test.X.shape[2])
    return Dataset(name, _pad_nan(train.X, length), np.array([index[c] for c in train.labels]),
                   _pad_nan(test.X, length), np.array([index[c] for c in test.labels]),
                   tuple(classes))


def _class_key(label: str) -> tuple[int, float | str]:
    try:
        return (0, float(label))
    except ValueError:
        return (1, label)


def _pad_nan(X: np.ndarray, length: int) -> np.ndarray:
    if X.shape[2] == length:
        return X
    out = np.full((*X.shape[:2], length), np.nan, dtype=X.dtype)
    out[..., : X.shape[2]] = X
    return out


def standardize(train: np.ndarray, *others: np.ndarray, mode: str = "channel"
                ) -> list[np.ndarray]:
    """Per-channel standardisation with training statistics, then NaN padding -> 0.

    ``mode="none"`` only replaces NaN by 0 (TimeMAE's raw inputs, spec section 4.2).
    """
    if mode not in ("channel", "none"):
        raise ValueError(f"unknown normalisation {mode!r}; valid: channel, none")
    arrays = [train, *others]
    if mode == "channel":
        mean = np.nanmean(train, axis=(0, 2), keepdims=True)
        std = np.nanstd(train, axis=(0, 2), keepdims=True)
        std = np.where(std > 0, std, 1.0)
        arrays = [(a - mean) / std for a in arrays]
    return [np.nan_to_num(a, nan=0.0).astype(np.float32) for a in arrays]


def stratified_split(y: np.ndarray, val_fraction: float, seed: int
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(train, validation)``: ``val_fraction`` of each class (at least one case when
    the class has two or more) goes to validation; drawn with ``seed``."""
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}")
    rng = np.random.default_rng(seed)
    tr, va = [], []
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        k = int(round(val_fraction * idx.size))
        k = min(max(k, 1 if idx.size > 1 else 0), idx.size - 1)
        va.extend(idx[:k].tolist())
        tr.extend(idx[k:].tolist())
    return np.sort(np.array(tr, dtype=np.int64)), np.sort(np.array(va, dtype=np.int64))
