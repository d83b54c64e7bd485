"""Metrics of generated time series: ROCKET features, Fréchet distance, FID, cFID and IS.

Spec ``papers/nmvqtsg.md`` section 2.5 (official code ``evaluation/evaluation.py`` and the
``supervised_FCN_2`` package at commit 6e04f69):

* features: ROCKET (1 000 random kernels, PPV + max -> 2 000 features, *no* per-series
  normalisation) with a fixed, stored seed (aeon's ``Rocket``), each row L2-normalised;
* outlier removal before every FID: ``IsolationForest(max_samples=0.9, contamination=0.1,
  random_state=0)`` fitted on each feature set separately;
* Fréchet distance ``||mu_1 - mu_2||^2 + tr(S_1 + S_2 - 2 (S_1 S_2)^{1/2})`` with unbiased
  covariances. :func:`frechet_distance` uses the exact nuclear-norm form
  ``tr(S_1) + tr(S_2) - 2 ||A B^T||_*`` (``A, B`` the centred feature matrices divided by
  ``sqrt(n - 1)``), which equals the ``sqrtm`` form (spec section 5) and stays stable for the
  rank-deficient covariances of ``n < d``; :func:`frechet_distance_sqrtm` is the reference;
* IS = ``exp(E_x KL(p(y|x) || p(y)))`` over splits, mean and sd across splits;
* cFID = mean over classes of the FID between the test series of a class and the samples
  generated for it.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np


# ------------------------------------------------------------------------------ features
class RocketFeatures:
    """ROCKET features with fixed kernels (aeon ``Rocket``, ``normalise=False``) + row L2-norm.

    Parameters
    ----------
    n_kernels
        Number of random kernels (paper code: 1 000 -> 2 000 features).
    seed
        ``random_state`` of the kernel draw; keep one per study so every FID uses the same kernels.
    """

    def __init__(self, n_kernels: int = 1000, seed: int = 0) -> None:
        self.n_kernels, self.seed = n_kernels, seed
        self._rocket = None
        self._shape: tuple[int, int] | None = None

    def __call__(self, X: np.ndarray) -> np.ndarray:
        """Features ``(n, 2 n_kernels)`` of series ``X (n, C, L)``, rows L2-normalised."""
        from aeon.transformations.collection.convolution_based import Rocket

        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 3:
            raise ValueError(f"ROCKET expects (n, channels, length), got shape {X.shape}")
        if self._rocket is None:
            self._rocket = Rocket(n_kernels=self.n_kernels, normalise=False,
                                  random_state=self.seed, n_jobs=1)
            self._rocket.fit(X)
            self._shape = X.shape[1:]
        elif X.shape[1:] != self._shape:
            raise ValueError(f"ROCKET kernels were drawn for series of shape {self._shape}, "
                             f"got {X.shape[1:]}")
        Z = np.asarray(self._rocket.transform(X), dtype=np.float64)
        return Z / np.maximum(np.linalg.norm(Z, axis=1, keepdims=True), 1e-12)


def remove_outliers(Z: np.ndarray, seed: int = 0) -> np.ndarray:
    """Rows of ``Z`` that ``IsolationForest(max_samples=0.9, contamination=0.1)`` keeps."""
    from sklearn.ensemble import IsolationForest

    if Z.shape[0] < 10:
        return Z
    keep = IsolationForest(max_samples=0.9, contamination=0.1, random_state=seed).fit_predict(Z)
    return Z[keep == 1]


# ------------------------------------------------------------------------------ Fréchet
def _check_pair(Z1: np.ndarray, Z2: np.ndarray) -> None:
    if Z1.ndim != 2 or Z2.ndim != 2 or Z1.shape[1] != Z2.shape[1]:
        raise ValueError(f"feature sets must be (n, d) with the same d, got {Z1.shape}, {Z2.shape}")
    if min(Z1.shape[0], Z2.shape[0]) < 2:
        raise ValueError("each feature set needs at least 2 rows for a covariance")


def frechet_distance(Z1: np.ndarray, Z2: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to rows of ``Z1`` and ``Z2`` (exact, fast).

    ``||mu_1 - mu_2||^2 + ||A||_F^2 + ||B||_F^2 - 2 ||A B^T||_*`` with
    ``A = (Z1 - mu_1) / sqrt(n_1 - 1)``, ``B = (Z2 - mu_2) / sqrt(n_2 - 1)``: the eigenvalues of
    ``S_1 S_2 = A^T A B^T B`` are the squared singular values of ``A B^T``, so
    ``tr (S_1 S_2)^{1/2} = ||A B^T||_*``.
    """
    Z1, Z2 = np.asarray(Z1, dtype=np.float64), np.asarray(Z2, dtype=np.float64)
    _check_pair(Z1, Z2)
    mu1, mu2 = Z1.mean(0), Z2.mean(0)
    A = (Z1 - mu1) / np.sqrt(Z1.shape[0] - 1)
    B = (Z2 - mu2) / np.sqrt(Z2.shape[0] - 1)
    nuclear = np.linalg.svd(A @ B.T, compute_uv=False).sum()
    value = float(((mu1 - mu2) ** 2).sum() + (A * A).sum() + (B * B).sum() - 2.0 * nuclear)
    return max(value, 0.0)


def frechet_distance_sqrtm(Z1: np.ndarray, Z2: np.ndarray) -> float:
    """Reference form with ``np.cov`` and ``scipy.linalg.sqrtm`` (imaginary part dropped)."""
    from scipy.linalg import sqrtm

    Z1, Z2 = np.asarray(Z1, dtype=np.float64), np.asarray(Z2, dtype=np.float64)
    _check_pair(Z1, Z2)
    mu1, mu2 = Z1.mean(0), Z2.mean(0)
    s1, s2 = np.cov(Z1, rowvar=False), np.cov(Z2, rowvar=False)
    covmean = sqrtm(s1 @ s2)
    covmean = np.real(covmean)
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2.0 * covmean))


def fid(Z_real: np.ndarray, Z_gen: np.ndarray, outliers: bool = True) -> float:
    """FID of feature sets as in the paper's code: outlier removal on each, then Fréchet."""
    if outliers:
        Z_real, Z_gen = remove_outliers(Z_real), remove_outliers(Z_gen)
    return frechet_distance(Z_real, Z_gen)


def class_fid(Z_real: np.ndarray, y_real: np.ndarray, Z_gen: Mapping[int, np.ndarray],
              outliers: bool = True) -> dict[int, float]:
    """FID per class ``c`` between ``Z_real[y_real == c]`` and ``Z_gen[c]`` (NaN: < 2 rows)."""
    out: dict[int, float] = {}
    for c, Zg in Z_gen.items():
        Zr = Z_real[y_real == c]
        out[int(c)] = (fid(Zr, Zg, outliers) if min(len(Zr), len(Zg)) >= 2 else float("nan"))
    return out


# ------------------------------------------------------------------------------ IS
def inception_score(probs: np.ndarray, splits: int = 10, seed: int | None = 0
                    ) -> tuple[float, float]:
    """IS ``exp(mean_x KL(p(y|x) || p(y)))`` per split of the rows of ``probs (n, K)``.

    Rows are shuffled first (with ``seed``; ``None``: no shuffle) like the paper's code.
    Returns ``(mean, sd)`` over splits.
    """
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or p.shape[0] < splits:
        raise ValueError(f"inception_score needs (n >= splits, K) probabilities, got {p.shape}")
    if seed is not None:
        p = p[np.random.default_rng(seed).permutation(p.shape[0])]
    scores = []
    for part in np.array_split(p, splits):
        py = part.mean(0, keepdims=True)
        kl = (part * (np.log(part + 1e-12) - np.log(py + 1e-12))).sum(1).mean()
        scores.append(np.exp(kl))
    return float(np.mean(scores)), float(np.std(scores))
