"""Classical imputation baselines of the MADS chapter (own code): Mean, LOCF, linear interpolation.

All take ``times (N, T)`` and ``x (N, T, D)`` with NaN at every entry the method may not see, and
return a complete ``(N, T, D)`` array. A window-feature with no observed value falls back to 0
(the training mean in the standardised space every method works in).
"""

from __future__ import annotations

import numpy as np

CLASSICAL = ("mean", "locf", "lerp")


def mean_impute(times: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Each missing entry gets the mean of its window-feature's observed values (else 0)."""
    with np.errstate(invalid="ignore"), _quiet():
        mu = np.nanmean(x, axis=1, keepdims=True)
    mu = np.where(np.isfinite(mu), mu, 0.0)
    return np.where(np.isnan(x), mu, x)


def locf_impute(times: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Last observation carried forward; leading gaps take the first observation (else 0)."""
    n, t, _ = x.shape
    obs = ~np.isnan(x)
    idx = np.where(obs, np.arange(t)[None, :, None], -1)
    last = np.maximum.accumulate(idx, axis=1)
    first = np.where(obs.any(axis=1, keepdims=True), obs.argmax(axis=1)[:, None, :], -1)
    src = np.where(last >= 0, last, first)
    filled = np.take_along_axis(np.nan_to_num(x), np.maximum(src, 0), axis=1)
    return np.where(src >= 0, filled, 0.0)


def lerp_impute(times: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Linear interpolation on the true time stamps (``numpy.interp``; constant at the edges)."""
    out = np.zeros_like(x, dtype=np.float64)
    n, _, d = x.shape
    for i in range(n):
        for f in range(d):
            m = ~np.isnan(x[i, :, f])
            if m.any():
                out[i, :, f] = np.interp(times[i], times[i][m], x[i, m, f])
    return out


def impute(name: str, times: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Run the classical baseline ``name`` (``mean``, ``locf`` or ``lerp``)."""
    fn = {"mean": mean_impute, "locf": locf_impute, "lerp": lerp_impute}.get(name)
    if fn is None:
        raise ValueError(f"unknown classical baseline {name!r}; valid: {', '.join(CLASSICAL)}")
    return fn(np.asarray(times, dtype=np.float64), np.asarray(x, dtype=np.float64))


class _quiet:
    """Silence NumPy's 'mean of empty slice' warning."""

    def __enter__(self):
        import warnings

        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore", category=RuntimeWarning)

    def __exit__(self, *exc):
        return self._w.__exit__(*exc)
