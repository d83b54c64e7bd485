"""UCR data as TimeVQVAE/NM-VQTSG use it (spec ``papers/nmvqtsg.md`` section 2.0).

The official code reads a re-split archive: TRAIN and TEST concatenated (in file order) and
split again 80/20 with ``StratifiedShuffleSplit(n_splits=1, test_size=0.2, random_state=0)``;
labels encoded on the train labels; per-channel standardisation with train statistics. The
re-split archive itself is not available offline, so it is rebuilt here from the original files
(the same call as the authors' sibling package; byte identity with their copy is unchecked).
"""

from __future__ import annotations

import numpy as np

from freqbook.data.registry import fetch
from freqbook.data.ucr import DATASETS, Dataset, load_split, standardize
from freqbook.results.record import file_sha256

#: datasets of this chapter (``MANIFEST-nmvqtsg.md``)
CHAPTER_DATASETS = ("ECG5000", "Crop", "GunPoint")


#: the re-split data: the archive loader's own container (``X (n, C, L)`` float32, labels 0..K-1)
Resplit = Dataset


def load_resplit(name: str, test_size: float = 0.2, random_state: int = 0) -> Resplit:
    """TRAIN + TEST of UCR dataset ``name``, re-split stratified 80/20 and standardised."""
    from sklearn.model_selection import StratifiedShuffleSplit

    if name not in CHAPTER_DATASETS:
        raise ValueError(f"unknown dataset {name!r} for this chapter; valid: "
                         f"{', '.join(CHAPTER_DATASETS)}")
    tr, te = load_split(name, "TRAIN"), load_split(name, "TEST")
    X = np.concatenate([tr.X, te.X])
    labels = np.concatenate([tr.labels, te.labels])
    split = StratifiedShuffleSplit(n_splits=1, test_size=test_size, random_state=random_state)
    i_tr, i_te = next(split.split(X[:, 0], labels))
    classes = tuple(sorted(set(labels[i_tr].tolist()), key=lambda s: float(s)))
    code = {c: i for i, c in enumerate(classes)}
    y = np.array([code[c] for c in labels])
    X_tr, X_te = standardize(X[i_tr], X[i_te])
    return Resplit(name, X_tr, y[i_tr], X_te, y[i_te], classes)


def data_sha256(name: str) -> dict[str, str]:
    """``{registry name: sha256}`` of the two files of ``name`` (for the record)."""
    keys = [f"ucr/{name}/{name}_{s}.{DATASETS[name]}" for s in ("TRAIN", "TEST")]
    return {k: file_sha256(fetch(k)) for k in keys}
