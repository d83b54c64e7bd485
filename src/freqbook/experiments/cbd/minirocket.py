"""MiniRocket (Dempster, Schmidt & Webb, KDD 2021), the non-deep anchor of the CBD chapter.

The method is not the paper's, so it is taken from a well-kept library: aeon's
:class:`aeon.classification.convolution_based.MiniRocketClassifier`, which is the MiniRocket
paper's pipeline - the MiniRocket transform (84 fixed kernels of length 9, dilations, PPV
features, ~10 000 of them), ``StandardScaler(with_mean=False)`` and scikit-learn's
``RidgeClassifierCV(alphas=np.logspace(-3, 3, 10))``. ``random_state`` is the run's seed, so a
record is reproducible seed by seed.

Notes
-----
aeon's kernels are compiled by numba on first use: about a minute once per environment
(the compiled code is cached on disk), then well under a second per call.
"""

from __future__ import annotations

import numpy as np


def minirocket_accuracy(X_tr: np.ndarray, y_tr: np.ndarray, X_te: np.ndarray,
                        y_te: np.ndarray, seed: int, num_features: int = 10_000) -> float:
    """Test accuracy (%) of aeon's MiniRocket + ridge classifier on one split.

    Parameters
    ----------
    X_tr, X_te
        Series ``(cases, channels, length)``, equal length and without NaN.
    y_tr, y_te
        Class labels.
    seed
        ``random_state`` of the transform (kernel biases, channel subsets).
    num_features
        aeon's ``n_kernels``: the number of features (rounded to a multiple of 84 by aeon).

    Returns
    -------
    float
        Percentage of correctly classified test cases.
    """
    from aeon.classification.convolution_based import MiniRocketClassifier

    from freqbook.metrics import accuracy

    clf = MiniRocketClassifier(n_kernels=int(num_features), random_state=int(seed), n_jobs=1)
    clf.fit(np.ascontiguousarray(X_tr, dtype=np.float64), np.asarray(y_tr))
    return accuracy(y_te, clf.predict(np.ascontiguousarray(X_te, dtype=np.float64)))
