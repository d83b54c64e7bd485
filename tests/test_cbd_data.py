"""UCR/UEA loader against the archives' official split sizes, normalisation, validation split
and metrics (the loader against aeon's readers: ``test_cbd_reference.py``)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from freqbook.data import DataError
from freqbook.data.ucr import (
    load_dataset,
    parse_ts,
    parse_tsv,
    standardize,
    stratified_split,
)
from freqbook.metrics import accuracy, effective_rank, macro_f1, numerical_rank

# (train, test, channels, length, classes) from MANIFEST-cbd.md / the UEA and UCR archives
SIZES = {
    "FingerMovements": (316, 100, 28, 50, 2),
    "ArticularyWordRecognition": (275, 300, 9, 144, 25),
    "BasicMotions": (40, 40, 6, 100, 4),
    "JapaneseVowels": (270, 370, 12, 29, 9),
    "ECG5000": (500, 4500, 1, 140, 5),
}


@pytest.mark.parametrize("name", sorted(SIZES))
def test_split_sizes_match_the_archive(name):
    n_tr, n_te, c, length, k = SIZES[name]
    ds = load_dataset(name)
    assert ds.X_train.shape == (n_tr, c, length) and ds.X_test.shape == (n_te, c, length)
    assert ds.n_classes == k and set(np.unique(ds.y_train)) == set(range(k))
    assert ds.y_test.min() >= 0 and ds.y_test.max() < k
    if name != "JapaneseVowels":
        assert np.isfinite(ds.X_train).all()


def test_variable_length_is_nan_padded():
    ds = load_dataset("JapaneseVowels")
    lengths = np.concatenate([np.isfinite(x[:, 0, :]).sum(1) for x in (ds.X_train, ds.X_test)])
    assert lengths.min() == 7 and lengths.max() == 29  # archive: 7-29 (train max 26)


def test_unknown_dataset_is_a_one_line_error():
    with pytest.raises(DataError, match="unknown UCR/UEA dataset 'HAR'"):
        load_dataset("HAR")


def test_parsers_on_small_texts():
    ts = "# c\n@problemName x\n@data\n1,2,3:4,5,6:a\n7,8:9,10:b\n"
    s = parse_ts(ts)
    assert s.X.shape == (2, 2, 3) and np.isnan(s.X[1, 0, 2]) and s.labels.tolist() == ["a", "b"]
    t = parse_tsv("1.0000e+00\t0.5\t0.25\n2\t1\t2\n")
    assert t.X.shape == (2, 1, 2) and t.labels.tolist() == ["1", "2"]
    with pytest.raises(DataError, match="channels"):
        parse_ts("@data\n1,2:3:a\n1:b\n")


def test_standardize_uses_training_statistics_and_zero_fills():
    rng = np.random.default_rng(0)
    tr, te = rng.normal(5, 3, (20, 2, 10)), rng.normal(5, 3, (5, 2, 10))
    te[0, 0, -2:] = np.nan
    a, b = standardize(tr, te)
    np.testing.assert_allclose(a.mean(axis=(0, 2)), 0, atol=1e-5)
    np.testing.assert_allclose(a.std(axis=(0, 2)), 1, atol=1e-4)
    assert b[0, 0, -1] == 0 and np.isfinite(b).all()


def test_stratified_split_is_disjoint_and_keeps_classes():
    y = np.repeat(np.arange(4), 10)
    tr, va = stratified_split(y, 0.2, seed=0)
    assert set(tr).isdisjoint(va) and len(tr) + len(va) == 40
    assert np.bincount(y[va]).tolist() == [2, 2, 2, 2]


def test_classification_metrics_and_ranks():
    y = np.array([0, 0, 1, 1])
    assert accuracy(y, np.array([0, 1, 1, 1])) == 75.0
    assert abs(macro_f1(y, np.array([0, 1, 1, 1])) - 100 * (2 / 3 + 0.8) / 2) < 1e-9
    assert abs(effective_rank(torch.eye(5)) - 5.0) < 1e-9
    assert abs(effective_rank(torch.ones(5, 5) / 5) - 1.0) < 1e-6
    assert numerical_rank(torch.ones(5, 5)) == 1

