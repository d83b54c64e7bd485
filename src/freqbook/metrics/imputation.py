"""Imputation metrics of the MADS chapter: masked MSE, Max error and W2 (spec section 1.2).

The paper names the three metrics but its definitions could not be read; these are the project's
resolution [R], used everywhere in the book. All are computed on the *evaluation mask* only (the
artificially removed, originally observed entries), in the standardised space the methods see.

* **MSE** - mean of ``(x_hat - x)^2`` pooled over every evaluation entry;
* **Max** - per series the largest ``|x_hat - x|`` over its evaluation entries, averaged over the
  series that have one (:func:`max_error`; ``reduce="global"`` gives the pooled maximum);
* **W2** - per series and feature, the 1-D Wasserstein-2 distance between the imputed and the
  true values on the evaluation entries (equal sizes: ``sqrt(mean((sort a - sort b)^2))``),
  averaged over the pairs with at least two entries. W2, not W2^2.

Inputs may be NumPy arrays or torch tensors of shape ``(N, T, D)``; results are Python floats.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _np(a: Any, dtype=np.float64) -> np.ndarray:
    if hasattr(a, "detach"):
        a = a.detach().cpu().numpy()
    return np.asarray(a, dtype=dtype)


def _check(pred: Any, truth: Any, mask: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    p, x, m = _np(pred), _np(truth), _np(mask, dtype=bool)
    if p.shape != x.shape or m.shape != x.shape:
        raise ValueError(f"shapes differ: pred {p.shape}, truth {x.shape}, mask {m.shape}")
    if p.ndim != 3:
        raise ValueError(f"expected (series, time, features) arrays, got {p.ndim} dimensions")
    bad = m & ~(np.isfinite(p) & np.isfinite(x))
    if bad.any():
        raise ValueError(f"{int(bad.sum())} evaluation entries are NaN/inf in pred or truth")
    return p, x, m


def masked_mse(pred: Any, truth: Any, mask: Any) -> float:
    """Mean squared error pooled over the entries where ``mask`` is true (NaN if none)."""
    p, x, m = _check(pred, truth, mask)
    if not m.any():
        return float("nan")
    return float(np.mean((p[m] - x[m]) ** 2))


def max_error(pred: Any, truth: Any, mask: Any, reduce: str = "series") -> float:
    """Max absolute error: per series then averaged (``"series"``), or pooled (``"global"``)."""
    p, x, m = _check(pred, truth, mask)
    err = np.where(m, np.abs(p - x), -np.inf).reshape(p.shape[0], -1).max(axis=1)
    has = m.reshape(p.shape[0], -1).any(axis=1)
    if not has.any():
        return float("nan")
    if reduce == "global":
        return float(err[has].max())
    if reduce != "series":
        raise ValueError(f"reduce must be 'series' or 'global', got {reduce!r}")
    return float(err[has].mean())


def w2_1d(a: Any, b: Any) -> float:
    """1-D Wasserstein-2 distance of two equal-size samples: ``sqrt(mean((sort a - sort b)^2))``."""
    a, b = np.sort(_np(a).ravel()), np.sort(_np(b).ravel())
    if a.size != b.size:
        raise ValueError(f"w2_1d needs equal sample sizes, got {a.size} and {b.size}")
    return float(np.sqrt(np.mean((a - b) ** 2)))


def w2(pred: Any, truth: Any, mask: Any, min_entries: int = 2) -> float:
    """W2 per (series, feature) on the evaluation entries, averaged over pairs with >= 2."""
    p, x, m = _check(pred, truth, mask)
    # Vectorised over (series, feature): unmasked entries sort to the end as +inf, so the first
    # ``count`` sorted values of each pair are its evaluation entries, in order.
    ps = np.sort(np.where(m, p, np.inf), axis=1)
    xs = np.sort(np.where(m, x, np.inf), axis=1)
    count = m.sum(axis=1)  # (N, D)
    first = np.arange(p.shape[1])[None, :, None] < count[:, None, :]
    with np.errstate(invalid="ignore"):  # inf - inf beyond each pair's count
        sq = np.where(first, ps - xs, 0.0) ** 2
    keep = count >= min_entries
    if not keep.any():
        return float("nan")
    per_pair = np.sqrt(sq.sum(axis=1)[keep] / count[keep])
    return float(per_pair.mean())


METRICS = ("mse", "max", "w2")


def all_metrics(pred: Any, truth: Any, mask: Any) -> dict[str, float]:
    """``{"mse", "max", "w2", "max_global"}`` on the evaluation mask."""
    return {
        "mse": masked_mse(pred, truth, mask),
        "max": max_error(pred, truth, mask),
        "w2": w2(pred, truth, mask),
        "max_global": max_error(pred, truth, mask, reduce="global"),
    }
