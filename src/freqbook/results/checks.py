"""Check functions: how a claim's "ours" is computed from a record variable.

A claim's ``check.test`` names one entry of :data:`CHECKS`; its ``check.args`` are passed as
keyword arguments. No YAML text is ever evaluated. Every check receives the record variable
(already narrowed by ``check.sel`` and reduced by ``check.reduce``) and a display ``unit`` and
returns a :class:`CheckResult`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one check.

    Attributes
    ----------
    passed
        ``True``/``False`` for a pass/fail test, ``None`` when the check only measures a number.
    ours
        Our number (``None`` when the check has no single number, e.g. an ordering).
    ours_text
        Short human text for the table, e.g. ``"siren 31.2 dB, +6.4 dB over relu_pe"``.
    detail
        Extra numbers (margin, runner-up, values per entry, ...).
    """

    passed: bool | None
    ours: float | None
    ours_text: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Contrast:
    """One inequality that a pass/fail check asserts, in a form the seed-aware comparator can
    re-evaluate on every seed: ``effect = sign * (x[plus] - x[minus]) - margin > 0``.

    ``plus`` and ``minus`` are label selections (``{dim: label}``) on the variable the check
    received; ``minus`` may instead be a constant (a threshold). ``label`` names it in notes.
    """

    label: str
    plus: dict[str, Any]
    minus: dict[str, Any] | float
    sign: float = 1.0
    margin: float = 0.0


def contrast_effect(c: Contrast, x_plus: Any, x_minus: Any) -> Any:
    """``sign * (x_plus - x_minus) - margin`` (arrays or numbers)."""
    return c.sign * (x_plus - x_minus) - c.margin


CheckFn = Callable[..., CheckResult]

#: registry: test name -> check function ``fn(da, unit="", **args) -> CheckResult``
CHECKS: dict[str, CheckFn] = {}


def register(name: str) -> Callable[[CheckFn], CheckFn]:
    """Decorator adding a check function to :data:`CHECKS` under ``name``."""

    def deco(fn: CheckFn) -> CheckFn:
        CHECKS[name] = fn
        return fn

    return deco


def fmt_number(x: float | None) -> str:
    """Compact number for tables: ``31.24``, ``0.00912``, ``1234.5``."""
    if x is None:
        return ""
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0:
        return "0"
    if abs(x) >= 100:
        return f"{x:.1f}"
    if abs(x) >= 1:
        return f"{x:.2f}"
    return f"{x:.3g}"


def _with_unit(x: float, unit: str) -> str:
    return f"{fmt_number(x)} {unit}" if unit else fmt_number(x)


def _signed(x: float, unit: str) -> str:
    text = _with_unit(x, unit)
    return text if text.startswith("-") or text == "nan" else f"+{text}"


def _scalar(da: xr.DataArray, what: str) -> float:
    if da.size != 1:
        raise ValueError(f"{what}: expected a single number, got shape {dict(da.sizes)}")
    return float(np.asarray(da.values).reshape(()))


def _along(da: xr.DataArray, dim: str) -> dict[str, float]:
    """``{label: value}`` of a variable that is one-dimensional along ``dim``."""
    if dim not in da.dims:
        raise ValueError(f"dimension {dim!r} not in the variable (dims: {list(da.dims)})")
    extra = [d for d in da.dims if d != dim]
    if extra:
        raise ValueError(
            f"after sel/reduce the variable must depend on {dim!r} only; also has {extra} "
            "(add them to check.reduce or check.sel)"
        )
    labels = (
        [str(v) for v in da[dim].values] if dim in da.coords else [str(i) for i in range(da.size)]
    )
    return dict(zip(labels, np.asarray(da.values, dtype=float).tolist(), strict=True))


def _label(da: xr.DataArray, dim: str, label: Any) -> Any:
    """The coordinate value along ``dim`` whose text is ``str(label)`` (for ``.sel``)."""
    if dim not in da.coords:
        return int(label)
    for v in da[dim].values:
        if str(v) == str(label):
            return v.item() if hasattr(v, "item") else v
    raise ValueError(f"{label!r} not found along {dim!r}")


def _pick(values: Mapping[str, float], label: Any, dim: str) -> float:
    key = str(label)
    if key not in values:
        raise ValueError(f"{key!r} not found along {dim!r} (have {sorted(values)})")
    return values[key]


@register("value")
def check_value(
    da: xr.DataArray, unit: str = "", sel: Mapping[str, Any] | None = None
) -> CheckResult:
    """Our number, without a pass/fail test: ``args: {sel: {method: siren}}``."""
    if sel:
        da = da.sel(dict(sel))
    x = _scalar(da, "value")
    label = " ".join(str(v) for v in (sel or {}).values())
    text = f"{label} {_with_unit(x, unit)}".strip()
    return CheckResult(None, x, text, {"sel": dict(sel or {})})


def _compare_scalar(
    da: xr.DataArray,
    unit: str,
    threshold: float,
    sel: Mapping[str, Any] | None,
    greater: bool,
) -> CheckResult:
    if sel:
        da = da.sel(dict(sel))
    x = _scalar(da, "greater_than" if greater else "less_than")
    passed = bool(x > threshold) if greater else bool(x < threshold)
    sign = ">" if greater else "<"
    shown = sign if passed else ("≤" if greater else "≥")
    text = f"{_with_unit(x, unit)} {shown} {fmt_number(threshold)}"
    contrast = Contrast(f"{sign} {fmt_number(threshold)}", dict(sel or {}), float(threshold),
                        1.0 if greater else -1.0)
    return CheckResult(passed, x, text, {"threshold": float(threshold), "contrasts": [contrast]})


@register("greater_than")
def check_greater_than(
    da: xr.DataArray, unit: str = "", *, threshold: float, sel: Mapping[str, Any] | None = None
) -> CheckResult:
    """Scalar strictly above ``threshold``."""
    return _compare_scalar(da, unit, float(threshold), sel, greater=True)


@register("less_than")
def check_less_than(
    da: xr.DataArray, unit: str = "", *, threshold: float, sel: Mapping[str, Any] | None = None
) -> CheckResult:
    """Scalar strictly below ``threshold``."""
    return _compare_scalar(da, unit, float(threshold), sel, greater=False)


@register("best_by_margin")
def check_best_by_margin(
    da: xr.DataArray,
    unit: str = "",
    *,
    dim: str,
    target: Any,
    margin: float = 0.0,
    higher_better: bool = True,
) -> CheckResult:
    """``target`` beats every other entry along ``dim`` by at least ``margin``.

    With ``higher_better: false`` (errors, FID) "beats" means lower. ``ours`` is the target's
    value; ``detail`` holds the achieved margin and the runner-up.
    """
    values = _along(da, dim)
    mine = _pick(values, target, dim)
    others = {k: v for k, v in values.items() if k != str(target)}
    if not others:
        raise ValueError(f"best_by_margin: nothing to compare {target!r} with along {dim!r}")
    if higher_better:
        runner_up = max(others, key=lambda k: others[k])
        achieved = mine - others[runner_up]
    else:
        runner_up = min(others, key=lambda k: others[k])
        achieved = others[runner_up] - mine
    passed = bool(achieved >= float(margin))  # NaN -> False
    word = "better than" if higher_better else "below"
    text = f"{target} {_with_unit(mine, unit)}, {_signed(achieved, unit)} {word} {runner_up}"
    if not passed:
        text += f" (needs ≥ {fmt_number(float(margin))})"
    detail = {"margin": achieved, "required_margin": float(margin), "runner_up": runner_up}
    sign = 1.0 if higher_better else -1.0
    contrasts = [Contrast(f"{target} vs {k}", {dim: _label(da, dim, target)},
                          {dim: _label(da, dim, k)}, sign, float(margin)) for k in others]
    return CheckResult(passed, mine, text, detail | {"values": values, "contrasts": contrasts})


@register("ordering")
def check_ordering(
    da: xr.DataArray,
    unit: str = "",
    *,
    dim: str,
    order: Sequence[Any],
    descending: bool = True,
    margin: float = 0.0,
) -> CheckResult:
    """Entries listed in ``order`` are strictly decreasing along ``dim`` (increasing with
    ``descending: false``); each step must exceed ``margin``."""
    if len(order) < 2:
        raise ValueError("ordering: 'order' needs at least two entries")
    values = _along(da, dim)
    picked = [(str(k), _pick(values, k, dim)) for k in order]
    steps = [
        (a - b) if descending else (b - a)
        for (_, a), (_, b) in zip(picked[:-1], picked[1:], strict=True)
    ]
    passed = all(s > float(margin) for s in steps)  # NaN -> False
    sep = " > " if descending else " < "
    text = sep.join(f"{k} {fmt_number(v)}" for k, v in picked)
    if unit:
        text += f" {unit}"
    if not passed:
        text = "NOT " + text
    contrasts = [Contrast(f"{a} vs {b}", {dim: _label(da, dim, a)}, {dim: _label(da, dim, b)},
                          1.0 if descending else -1.0, float(margin))
                 for (a, _), (b, _) in zip(picked[:-1], picked[1:], strict=True)]
    detail = {"values": dict(picked), "steps": steps, "contrasts": contrasts}
    return CheckResult(passed, None, text, detail)


def _compare_all(
    da: xr.DataArray, unit: str, dim: str, threshold: float, greater: bool
) -> CheckResult:
    values = _along(da, dim)
    if not values:
        raise ValueError(f"no entries along {dim!r}")
    worst = (min if greater else max)(values, key=lambda k: values[k])
    ok = [(v > threshold) if greater else (v < threshold) for v in values.values()]
    passed = bool(all(ok))
    sign = ">" if greater else "<"
    which = "min" if greater else "max"
    head = (
        f"all {len(values)} {sign} {fmt_number(threshold)}"
        if passed
        else (f"{len(ok) - sum(ok)} of {len(values)} not {sign} {fmt_number(threshold)}")
    )
    text = f"{head} ({which} {_with_unit(values[worst], unit)} at {worst})"
    contrasts = [Contrast(f"{k} {sign} {fmt_number(threshold)}", {dim: _label(da, dim, k)},
                          float(threshold), 1.0 if greater else -1.0) for k in values]
    detail = {"worst": worst, "threshold": float(threshold), "values": values,
              "contrasts": contrasts}
    return CheckResult(passed, values[worst], text, detail)


@register("all_greater_than")
def check_all_greater_than(
    da: xr.DataArray, unit: str = "", *, dim: str, threshold: float
) -> CheckResult:
    """Every entry along ``dim`` strictly above ``threshold``; ``ours`` = the smallest."""
    return _compare_all(da, unit, dim, float(threshold), greater=True)


@register("all_less_than")
def check_all_less_than(
    da: xr.DataArray, unit: str = "", *, dim: str, threshold: float
) -> CheckResult:
    """Every entry along ``dim`` strictly below ``threshold``; ``ours`` = the largest."""
    return _compare_all(da, unit, dim, float(threshold), greater=False)


@register("best_everywhere")
def check_best_everywhere(
    da: xr.DataArray,
    unit: str = "",
    *,
    dim: str,
    target: Any,
    over: str,
    higher_better: bool = True,
) -> CheckResult:
    """``target`` is the best entry along ``dim`` for every label of ``over`` (two-dimensional
    variable). ``ours`` = the number of ``over`` labels where it is best; ``detail`` lists the
    labels where another entry wins, with the winner."""
    if set(da.dims) != {dim, over}:
        raise ValueError(
            f"best_everywhere: variable must depend on {dim!r} and {over!r} only (has "
            f"{list(da.dims)})"
        )
    losses: dict[str, str] = {}
    labels = [str(v) for v in da[over].values]
    contrasts: list[Contrast] = []
    sign = 1.0 if higher_better else -1.0
    for label, key in zip(labels, da[over].values, strict=True):
        values = _along(da.sel({over: key}), dim)
        mine = _pick(values, target, dim)
        contrasts += [
            Contrast(f"{target} vs {k} on {label}", {over: key, dim: _label(da, dim, target)},
                     {over: key, dim: _label(da, dim, k)}, sign)
            for k in values if k != str(target)
        ]
        pick = max if higher_better else min
        best = pick(values, key=lambda k: values[k])
        if best != str(target) and values[best] != mine:
            losses[label] = best
        if not math.isfinite(mine):
            losses[label] = "nan"
    wins = len(labels) - len(losses)
    text = f"{target} best on {wins} of {len(labels)}"
    if losses:
        text += " (not on " + ", ".join(f"{k}: {v}" for k, v in losses.items()) + ")"
    return CheckResult(not losses, float(wins), text, {"losses": losses, "contrasts": contrasts})
