"""Imputation splits with three masks kept apart (MADS chapter, spec sections 2.1, 7.13-7.14).

An :class:`ImputationSet` holds windows ``values (N, T, D)`` (NaN where never measured), their
times ``(N, T)`` and three boolean masks:

* ``observed`` - measured in the raw data (the *originally missing* entries are ``~observed``);
* ``removed`` - artificially removed by us for evaluation (a subset of ``observed``);
* ``input`` (property) - what a method may see: ``observed & ~removed``.

Methods receive :attr:`ImputationSet.x_input` (NaN everywhere outside ``input``), never
``values``; metrics are computed on ``removed`` only. Missingness generators:

* :func:`random_point_mask` - each observed entry removed independently-uniformly: exactly
  ``round(rate * n_observed)`` entries per window (the paper's random missingness);
* :func:`block_mask` - contiguous runs of time steps removed per feature (**extension**: the
  paper tested random missingness only).

Every generator takes its own ``numpy.random.Generator`` so the evaluation mask is identical for
every method and independent of the torch seed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

PATTERNS = ("point", "block")


@dataclass(frozen=True)
class ImputationSet:
    """Windows with observed / removed masks (see the module docstring)."""

    times: np.ndarray
    values: np.ndarray
    observed: np.ndarray
    removed: np.ndarray

    def __post_init__(self) -> None:
        n, t, _ = self.values.shape
        if self.times.shape != (n, t):
            raise ValueError(f"times {self.times.shape} do not match values {self.values.shape}")
        if self.observed.shape != self.values.shape or self.removed.shape != self.values.shape:
            raise ValueError("observed and removed masks must have the shape of values")
        if (self.removed & ~self.observed).any():
            raise ValueError("removed entries must be originally observed")

    @property
    def input(self) -> np.ndarray:
        """Entries a method may use: observed and not removed."""
        return self.observed & ~self.removed

    @property
    def x_input(self) -> np.ndarray:
        """Values a method may see: NaN outside :attr:`input`."""
        return np.where(self.input, self.values, np.nan)

    @property
    def originally_missing(self) -> np.ndarray:
        """Entries never measured (not evaluated: no truth)."""
        return ~self.observed

    def __len__(self) -> int:
        return self.values.shape[0]

    def subset(self, index) -> ImputationSet:
        """The windows ``index`` (array of indices or a slice)."""
        return ImputationSet(self.times[index], self.values[index], self.observed[index],
                             self.removed[index])

    def with_removed(self, removed: np.ndarray) -> ImputationSet:
        """The same windows with another evaluation mask."""
        return replace(self, removed=removed)


def random_point_mask(observed: np.ndarray, rate: float, rng: np.random.Generator) -> np.ndarray:
    """Remove ``round(rate * n_obs)`` observed entries of each window, uniformly at random."""
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"missing rate must be in [0, 1), got {rate}")
    n = observed.shape[0]
    flat = observed.reshape(n, -1)
    out = np.zeros_like(flat)
    for i in range(n):
        idx = np.flatnonzero(flat[i])
        k = int(round(rate * idx.size))
        if k:
            out[i, rng.choice(idx, size=k, replace=False)] = True
    return out.reshape(observed.shape)


def block_mask(
    observed: np.ndarray, rate: float, rng: np.random.Generator, block: int = 5
) -> np.ndarray:
    """Extension: remove runs of ``block`` consecutive steps per feature until ~``rate`` is gone.

    Only originally observed entries are marked; blocks start uniformly at random.
    """
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"missing rate must be in [0, 1), got {rate}")
    n, t, d = observed.shape
    out = np.zeros_like(observed)
    for i in range(n):
        target = int(round(rate * observed[i].sum()))
        guard = 0
        while out[i].sum() < target and guard < 100 * (t * d // max(block, 1) + 1):
            s, f = int(rng.integers(0, max(t - block + 1, 1))), int(rng.integers(0, d))
            out[i, s:s + block, f] = observed[i, s:s + block, f]
            guard += 1
    return out


def remove(observed: np.ndarray, rate: float, rng: np.random.Generator,
           pattern: str = "point") -> np.ndarray:
    """Evaluation mask of ``pattern`` (``point`` or ``block``) at ``rate``."""
    if pattern == "point":
        return random_point_mask(observed, rate, rng)
    if pattern == "block":
        return block_mask(observed, rate, rng)
    raise ValueError(f"unknown missingness pattern {pattern!r}; valid: {', '.join(PATTERNS)}")


def standardise(train: np.ndarray, *others: np.ndarray) -> tuple[np.ndarray, ...]:
    """z-score per feature with the training split's observed entries (NaN ignored).

    Returns the scaled arrays (train first) followed by ``mean`` and ``std`` ``(D,)``.
    """
    mean = np.nanmean(train.reshape(-1, train.shape[-1]), axis=0)
    std = np.nanstd(train.reshape(-1, train.shape[-1]), axis=0)
    std = np.where(std > 0, std, 1.0)
    scaled = tuple((a - mean) / std for a in (train, *others))
    return (*scaled, mean, std)


def scale_times(times: list[np.ndarray] | np.ndarray, span: float) -> np.ndarray:
    """Spec 2.5: ``t' = 2 (t - t_start) / span - 1`` with one global ``span`` for all windows."""
    t = np.asarray(times, dtype=np.float64)
    return 2.0 * (t - t[:, :1]) / span - 1.0
