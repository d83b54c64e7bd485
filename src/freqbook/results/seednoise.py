"""Seed-aware judging of a comparison: is an effect larger than its margin, given seed noise?

A comparative claim ("SIREN beats ReLU + P.E. by 3 dB", "K = 12 is best") is reduced to one or
more *effects* per seed, ``effect_s = sign * (x_plus,s - x_minus,s) - margin`` (see
:class:`freqbook.results.checks.Contrast`). The claim holds when the mean effect is positive.

The statistic
-------------
We use a one-sided 95 % Student-t interval of the mean effect:

* **paired** over the seeds where both sides were run (the usual case: every method of a record
  is trained on the same seeds, so seed-to-seed variation common to both cancels);
* **Welch** (unequal variances) when the sides were run on different seeds, each on two or more;
* **pooled from one side** when one side ran a single seed and the other several: the single
  run is assumed as noisy as the other side's runs (``se = s * sqrt(1/n + 1)``, ``n - 1`` degrees
  of freedom), which is the only estimate of its noise the record holds;
* **one-sample** when the other side is a constant threshold.

With ``lower`` and ``upper`` the one-sided 95 % bounds, the outcome is ``yes`` when
``lower > 0`` (the effect exceeds its margin beyond seed noise), ``no`` when ``upper < 0`` (it
falls short beyond seed noise), ``unsure`` otherwise - including every case where the noise
cannot be estimated (one seed on both sides). ``missing`` when a side was not run at all.
One seed can therefore never give ``yes``; a claim that is deterministic (an analytic property,
a count) declares itself so and is judged on its value alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

#: confidence of the one-sided bounds
CONFIDENCE = 0.95
OUTCOMES = ("yes", "no", "unsure", "missing")


@dataclass(frozen=True)
class Interval:
    """Mean effect with its one-sided bounds.

    Attributes
    ----------
    mean
        Mean effect (``nan`` when a side was not run).
    lower, upper
        One-sided ``CONFIDENCE`` bounds (``nan`` when the noise cannot be estimated).
    n
        Number of seeds the mean rests on (paired: shared seeds; otherwise the smaller side).
    method
        ``paired``, ``welch``, ``pooled-one-side``, ``one-sample`` or ``none``.
    """

    mean: float
    lower: float
    upper: float
    n: int
    method: str

    @property
    def outcome(self) -> str:
        """``yes`` / ``no`` / ``unsure`` / ``missing`` (see the module docstring)."""
        if math.isnan(self.mean):
            return "missing"
        if self.lower > 0:
            return "yes"
        if self.upper < 0:
            return "no"
        return "unsure"


def _finite(x: np.ndarray) -> np.ndarray:
    return np.isfinite(x)


def _bounds(mean: float, se: float, df: float) -> tuple[float, float]:
    if not (df > 0 and math.isfinite(se)):
        return math.nan, math.nan
    t = float(stats.t.ppf(CONFIDENCE, df))
    return mean - t * se, mean + t * se


def effect_interval(
    plus: np.ndarray | float,
    minus: np.ndarray | float,
    *,
    sign: float = 1.0,
    margin: float = 0.0,
) -> Interval:
    """Interval of the mean of ``sign * (plus - minus) - margin`` over seeds.

    Parameters
    ----------
    plus, minus
        Per-seed values aligned by seed (NaN = seed not run), or a constant for ``minus``.
    sign, margin
        As in :class:`freqbook.results.checks.Contrast`.

    Examples
    --------
    >>> effect_interval(np.array([3.0, 3.2, 2.9]), np.array([1.0, 1.1, 0.8])).outcome
    'yes'
    >>> effect_interval(np.array([3.0]), np.array([1.0])).outcome   # one seed: noise unknown
    'unsure'
    """
    p = np.atleast_1d(np.asarray(plus, dtype=float))
    if np.ndim(minus) == 0:
        vals = sign * (p[_finite(p)] - float(minus)) - margin
        n = vals.size
        if n == 0 or not math.isfinite(float(minus)):
            return Interval(math.nan, math.nan, math.nan, 0, "none")
        mean = float(vals.mean())
        se = float(vals.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan
        lo, hi = _bounds(mean, se, n - 1)
        return Interval(mean, lo, hi, n, "one-sample")
    m = np.atleast_1d(np.asarray(minus, dtype=float))
    if m.shape != p.shape:
        raise ValueError(f"plus and minus must be aligned by seed ({p.shape} vs {m.shape})")
    fp, fm = _finite(p), _finite(m)
    if not fp.any() or not fm.any():
        return Interval(math.nan, math.nan, math.nan, 0, "none")
    both = fp & fm
    if both.sum() >= 2:
        d = sign * (p[both] - m[both]) - margin
        n = int(d.size)
        mean = float(d.mean())
        lo, hi = _bounds(mean, float(d.std(ddof=1) / math.sqrt(n)), n - 1)
        return Interval(mean, lo, hi, n, "paired")
    a, b = p[fp], m[fm]
    mean = float(sign * (a.mean() - b.mean()) - margin)
    na, nb = a.size, b.size
    if na >= 2 and nb >= 2:
        va, vb = a.var(ddof=1) / na, b.var(ddof=1) / nb
        se = math.sqrt(va + vb)
        denom = (va**2 / (na - 1) + vb**2 / (nb - 1))
        df = (va + vb) ** 2 / denom if denom > 0 else na + nb - 2
        lo, hi = _bounds(mean, se, df)
        return Interval(mean, lo, hi, min(na, nb), "welch")
    if max(na, nb) >= 2:
        many = a if na >= 2 else b
        s = float(many.std(ddof=1))
        lo, hi = _bounds(mean, s * math.sqrt(1 / many.size + 1), many.size - 1)
        return Interval(mean, lo, hi, 1, "pooled-one-side")
    return Interval(mean, math.nan, math.nan, 1, "none")


def combine(outcomes: list[str]) -> str:
    """All contrasts of one claim must hold: ``no`` beats ``missing`` beats ``unsure``."""
    for worst in ("no", "missing", "unsure"):
        if worst in outcomes:
            return worst
    return "yes" if outcomes else "missing"
