"""The chapter's archive readers and its MiniRocket anchor against aeon.

``freqbook.data.ucr`` parses ``.ts``/``.tsv`` itself (every file goes through the registry's sha256
check); here it is compared with aeon's readers on the mirrored files: same shapes, values and
labels. The MiniRocket anchor is aeon's classifier; its test checks the wrapper, not aeon.
"""

from __future__ import annotations

import numpy as np
import pytest

from freqbook.data import fetch
from freqbook.data.ucr import DATASETS, load_split

aeon_datasets = pytest.importorskip("aeon.datasets")

# one multivariate equal-length .ts, one variable-length .ts, one univariate .tsv
CASES = [("BasicMotions", "TRAIN"), ("BasicMotions", "TEST"), ("JapaneseVowels", "TRAIN"),
         ("ECG5000", "TRAIN"), ("ECG5000", "TEST")]


def _aeon_split(name: str, split: str) -> tuple[list[np.ndarray], np.ndarray]:
    """aeon's reading of the same file: a list of ``(channels, length_i)`` cases and labels."""
    path = str(fetch(f"ucr/{name}/{name}_{split}.{DATASETS[name]}"))
    if DATASETS[name] == "ts":
        X, y = aeon_datasets.load_from_ts_file(path)
    else:
        X, y = aeon_datasets.load_from_tsv_file(path)
    return [np.asarray(x, dtype=np.float64) for x in X], np.asarray(y)


@pytest.mark.parametrize(("name", "split"), CASES)
def test_loader_matches_aeon_readers(name, split):
    ours = load_split(name, split)
    ref_X, ref_y = _aeon_split(name, split)
    assert ours.X.shape[0] == len(ref_X)
    assert ours.X.shape[1] == ref_X[0].shape[0]
    assert ours.X.shape[2] == max(x.shape[1] for x in ref_X)
    for i, ref in enumerate(ref_X):
        n = ref.shape[1]
        np.testing.assert_allclose(ours.X[i, :, :n], ref, rtol=1e-6, atol=1e-6)
        assert np.isnan(ours.X[i, :, n:]).all()  # NaN padding past the case's own length
    # aeon reads UCR .tsv labels as numbers (1), ours keeps one text spelling ("1"); aeon's .ts
    # reader lower-cases every line ("Standing" -> "standing"), ours keeps the file's spelling
    ref_labels = [str(int(v)) if isinstance(v, (int, np.integer)) else str(v) for v in ref_y]
    assert [lab.lower() for lab in ours.labels.tolist()] == ref_labels


def test_variable_length_case_lengths_match_aeon():
    ours = load_split("JapaneseVowels", "TRAIN")
    ref_X, _ = _aeon_split("JapaneseVowels", "TRAIN")
    lengths = np.isfinite(ours.X[:, 0, :]).sum(1)
    assert lengths.tolist() == [x.shape[1] for x in ref_X]
    assert len(set(lengths.tolist())) > 1  # the file really is variable-length


def test_minirocket_anchor_learns_and_is_seeded():
    pytest.importorskip("aeon.classification.convolution_based")
    from freqbook.experiments.cbd.minirocket import minirocket_accuracy

    rng = np.random.default_rng(0)
    t = np.linspace(0, 1, 60)
    freq = np.repeat([2.0, 7.0], 20)  # two classes: slow vs fast sine, random phase, noise
    X = np.sin(2 * np.pi * (freq[:, None] * t[None] + rng.uniform(0, 1, (40, 1))))
    X = (X + 0.3 * rng.normal(size=X.shape))[:, None, :]
    y = (freq > 3).astype(int)
    tr, te = np.arange(40) % 2 == 0, np.arange(40) % 2 == 1
    acc = minirocket_accuracy(X[tr], y[tr], X[te], y[te], seed=0, num_features=840)
    assert acc >= 90.0
    again = minirocket_accuracy(X[tr], y[tr], X[te], y[te], seed=0, num_features=840)
    assert again == acc
    # labels that carry no information: the anchor must not "learn" them
    shuffled = rng.permutation(y)
    chance = minirocket_accuracy(X[tr], shuffled[tr], X[te], shuffled[te], seed=0,
                                 num_features=840)
    assert chance < 90.0
