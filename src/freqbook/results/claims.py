"""Paper claims and the comparator that turns claims + result records into verdicts.

A claims file ``data/claims/<paper>.yaml`` is a YAML list of claims (schema in the claims
README) plus two optional fields of ours: ``tolerance`` and ``check``. ``check`` says how "ours"
is computed from a result record::

    check:
      experiment: image_fit          # record <paper>/<experiment>.nc at the evaluated profile
      variable: final_psnr
      sel: {dataset: cameraman}      # optional label selection before reducing
      reduce: {seed: mean}           # mean|max|min|median|nanmean over each named dim, in order
      test: best_by_margin           # a name in freqbook.results.checks.CHECKS
      args: {dim: method, target: siren, margin: 3.0}
      profiles: [smoke, cpu, paper]  # where the check is meaningful (default: all)
      unit: dB                       # optional; inferred from the metric otherwise
      paper: siren                   # optional; read the record of another chapter
      deterministic: false           # true: an analytic property, judged without seed noise
      like_for_like: [paper]         # profiles whose setting matches the paper's (see below)
      require: {K: [1, 2, 4, 8, 12, 16]}   # levels that must all have run, else "not run"
      chance: {variable: majority_percent}  # an accuracy within noise of it never passes

Claim-level fields of ours besides ``tolerance`` and ``check``: ``comparable: false`` (ours is
measured on another dataset or protocol: shown, never judged), ``role: baseline`` (the claim is
about a baseline's number: doing better than the paper reported is *not* a success for the
paper) and ``caution`` (a warning printed in the row, e.g. for a third-party summary).

Verdicts (see :func:`evaluate`): ``reproduced``, ``reproduced-better``, ``inconclusive``,
``not comparable``, ``qualitative-only``, ``not reproduced``, ``not run``, ``no check``.
Comparisons are judged on the per-seed values with :mod:`freqbook.results.seednoise`.
"""

from __future__ import annotations

import inspect
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pandas as pd
import xarray as xr
import yaml

from freqbook import provenance
from freqbook.results.checks import CHECKS, CheckResult, Contrast, fmt_number
from freqbook.results.record import load_record_file, record_path
from freqbook.results.seednoise import Interval, combine, effect_interval

VERDICTS = (
    "reproduced",
    "reproduced-better",
    "inconclusive",
    "not comparable",
    "qualitative-only",
    "not reproduced",
    "not run",
    "no check",
)
ROLES = ("proposed", "baseline")
SEED_DIM = "seed"
#: seed reductions under which a comparison is judged on the per-seed values (mean effect)
SEED_MEAN_REDUCERS = ("mean", "nanmean", "median")
#: seed reductions that make a check a worst case over seeds ("holds on every seed")
SEED_WORST_REDUCERS = ("max", "min")
#: profiles at which a paper value is judged when a claim does not say
DEFAULT_LIKE_FOR_LIKE = ("paper",)
KINDS = ("quantitative", "qualitative")
DIRECTIONS = ("higher_better", "lower_better")
PROVENANCES = tuple(
    "paper paper-transcription author-repo third-party-summary recalled missing".split()
)
#: provenances whose value is compared as the paper's number
PAPER_VALUE_PROVENANCES = ("paper", "paper-transcription", "author-repo", "recalled")
CONFIDENCES = ("read", "recalled")
#: ``nanmean`` skips seeds that a profile did not run (e.g. an expensive baseline on one seed);
#: the others propagate NaN so that a missing value can never pass a check unnoticed.
REDUCERS = ("mean", "max", "min", "median", "nanmean")
#: the claims-README schema (first 16) plus our ``tolerance``, ``check`` and ``comparable``
#: (``comparable: false``: ours is measured on a different dataset or protocol, so it is shown
#: beside the paper's value but never judged against it - verdict ``qualitative-only``)
CLAIM_FIELDS = tuple(
    "id paper where kind metric dataset method setting value std direction statement source "
    "confidence provenance note tolerance check comparable role caution".split()
)
CHECK_FIELDS = tuple(
    "experiment variable test args reduce sel profiles paper unit deterministic like_for_like "
    "require chance".split()
)
COLUMNS = ("id", "where", "claim", "paper", "ours", "delta", "verdict", "note")
NOT_AVAILABLE = "paper value not available"

#: the C loader (when PyYAML has libyaml) reads the 1 400-claim ledgers several times faster
_Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Check:
    """How "ours" is computed from a record (the claim's ``check`` block)."""

    experiment: str
    variable: str
    test: str
    args: dict[str, Any] = field(default_factory=dict)
    reduce: dict[str, str] = field(default_factory=dict)
    sel: dict[str, Any] = field(default_factory=dict)
    profiles: tuple[str, ...] | None = None
    paper: str | None = None
    unit: str | None = None
    deterministic: bool = False
    like_for_like: tuple[str, ...] | None = None
    require: dict[str, list[Any]] = field(default_factory=dict)
    chance: dict[str, Any] | None = None

    def applies_to(self, profile: str) -> bool:
        """Whether the check is meaningful at ``profile``."""
        return self.profiles is None or profile in self.profiles


@dataclass(frozen=True)
class Claim:
    """One entry of a claims file."""

    id: str
    kind: str
    paper: str = ""
    where: str = ""
    metric: str | None = None
    dataset: str | None = None
    method: str | None = None
    setting: str | None = None
    value: float | None = None
    std: float | None = None
    direction: str | None = None
    statement: str | None = None
    source: str | None = None
    confidence: str | None = None
    provenance: str | None = None
    note: str | None = None
    tolerance: float | None = None
    comparable: bool = True
    check: Check | None = None
    role: str = "proposed"
    caution: str | None = None

    def like_for_like(self, judged_against_paper: bool) -> tuple[str, ...] | None:
        """Profiles whose setting matches the paper's (``None``: every profile).

        A paper value is judged only at like-for-like profiles (default ``paper``); a
        comparison between our own runs is meaningful at every profile unless its check says
        otherwise (e.g. baselines handicapped at a small budget).
        """
        declared = self.check.like_for_like if self.check is not None else None
        if declared is not None:
            return declared
        return DEFAULT_LIKE_FOR_LIKE if judged_against_paper else None

    @property
    def has_paper_value(self) -> bool:
        """A number to compare against (paper, transcription, author repo or recalled)."""
        return self.value is not None and self.provenance in PAPER_VALUE_PROVENANCES

    @property
    def effective_tolerance(self) -> float | None:
        """``tolerance``, else 1 dB for PSNR in dB, else 5 % of ``|value|``."""
        if self.tolerance is not None:
            return self.tolerance
        if self.value is None:
            return None
        if self.metric and "PSNR" in self.metric and "dB" in self.metric:
            return 1.0
        return 0.05 * abs(self.value)

    @property
    def text(self) -> str:
        """The statement, or "metric method dataset setting"."""
        if self.statement:
            return " ".join(str(self.statement).split())
        parts = (self.metric, self.method, self.dataset, self.setting)
        return " ".join(str(p) for p in parts if p not in (None, ""))

    @property
    def unit(self) -> str:
        """Display unit: the check's ``unit``, else inferred from the metric name."""
        if self.check is not None and self.check.unit is not None:
            return self.check.unit
        metric = self.metric or ""
        if "dB" in metric:
            return "dB"
        if "percent" in metric:
            return "%"
        return ""


def claims_dir() -> Path:
    """``$FREQBOOK_CLAIMS``, else ``<checkout>/data/claims``, else the copy shipped in the wheel.

    ``data/claims/`` is the one place claims are edited; a wheel carries a copy of it made at build
    time (``freqbook/_bookdata/claims``, see ``setup.py``), so a notebook run outside the checkout
    (Colab, ``pip install``) reads the same files.
    """
    env = os.environ.get("FREQBOOK_CLAIMS")
    if env:
        return Path(env).expanduser()
    root = provenance.repo_root()
    if root is not None:
        return root / "data" / "claims"
    return Path(__file__).resolve().parents[1] / "_bookdata" / "claims"


def _parse_check(raw: Any, fail: Callable[[str], NoReturn]) -> Check:
    if not isinstance(raw, dict):
        fail("'check' must be a mapping")
    unknown = sorted(set(raw) - set(CHECK_FIELDS))
    if unknown:
        fail(f"unknown check field(s) {unknown}")
    for key in ("experiment", "variable", "test"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            fail(f"check.{key} must be a non-empty string")
    kw = {k: raw.get(k) for k in CHECK_FIELDS}
    if kw["test"] not in CHECKS:
        fail(f"unknown check test {kw['test']!r} (known: {sorted(CHECKS)})")
    for key in ("args", "reduce", "sel"):
        if not isinstance(kw[key] or {}, dict):
            fail(f"check.{key} must be a mapping")
        kw[key] = dict(kw[key] or {})
    bad = {d: how for d, how in kw["reduce"].items() if how not in REDUCERS}
    if bad:
        fail(f"check.reduce {bad}: use one of {list(REDUCERS)}")
    try:
        inspect.signature(CHECKS[kw["test"]]).bind(None, **kw["args"])
    except TypeError as err:
        fail(f"check.args do not fit test {kw['test']!r}: {err}")
    profiles = kw["profiles"]
    if profiles is not None:
        profiles = [profiles] if isinstance(profiles, str) else profiles
        if not isinstance(profiles, list) or not all(isinstance(p, str) for p in profiles):
            fail("check.profiles must be a list of profile names")
        kw["profiles"] = tuple(profiles)
    for key in ("paper", "unit"):
        if kw[key] is not None and not isinstance(kw[key], str):
            fail(f"check.{key} must be a string")
    if kw["deterministic"] is None:
        kw["deterministic"] = False
    elif not isinstance(kw["deterministic"], bool):
        fail("check.deterministic must be true or false")
    lfl = kw["like_for_like"]
    if lfl is not None:
        lfl = [lfl] if isinstance(lfl, str) else lfl
        if not isinstance(lfl, list) or not all(isinstance(p, str) for p in lfl):
            fail("check.like_for_like must be a list of profile names")
        kw["like_for_like"] = tuple(lfl)
    req = kw["require"] or {}
    if not isinstance(req, dict) or not all(isinstance(v, list) for v in req.values()):
        fail("check.require must map a dimension to a list of labels")
    kw["require"] = dict(req)
    chance = kw["chance"]
    if chance is not None and (not isinstance(chance, dict) or "variable" not in chance):
        fail("check.chance must be a mapping with a 'variable'")
    return Check(**kw)


def _parse_claim(raw: Any, index: int, source: Path) -> Claim:
    cid = raw.get("id") if isinstance(raw, dict) else None

    def fail(msg: str) -> NoReturn:
        raise ValueError(f"{source}: claim {cid or f'#{index}'}: {msg}")

    if not isinstance(raw, dict):
        fail("each claim must be a mapping")
    if not isinstance(cid, str) or not cid:
        fail("'id' must be a non-empty string")
    unknown = sorted(set(raw) - set(CLAIM_FIELDS))
    if unknown:
        fail(f"unknown field(s) {unknown}")
    if raw.get("kind") not in KINDS:
        fail(f"kind {raw.get('kind')!r} is not one of {list(KINDS)}")
    choices = {"direction": DIRECTIONS, "provenance": PROVENANCES, "confidence": CONFIDENCES}
    for key, allowed in choices.items():
        if raw.get(key) is not None and raw[key] not in allowed:
            fail(f"{key} {raw[key]!r} is not one of {list(allowed)} or null")
    kw: dict[str, Any] = {k: raw.get(k) for k in CLAIM_FIELDS}
    for key in ("value", "std", "tolerance"):
        if kw[key] is not None and (
            isinstance(kw[key], bool) or not isinstance(kw[key], float | int)
        ):
            fail(f"{key} must be a number or null, got {kw[key]!r}")
        kw[key] = None if kw[key] is None else float(kw[key])
    if kw["tolerance"] is not None and kw["tolerance"] < 0:
        fail("tolerance must be >= 0")
    for key in CLAIM_FIELDS[:16]:
        if kw[key] is not None and key not in ("value", "std"):
            kw[key] = str(kw[key])
    kw["paper"], kw["where"] = kw["paper"] or "", kw["where"] or ""
    kw["check"] = None if kw["check"] is None else _parse_check(kw["check"], fail)
    if kw["comparable"] is None:
        kw["comparable"] = True
    elif not isinstance(kw["comparable"], bool):
        fail(f"comparable must be true or false, got {kw['comparable']!r}")
    kw["role"] = kw["role"] or "proposed"
    if kw["role"] not in ROLES:
        fail(f"role {kw['role']!r} is not one of {list(ROLES)}")
    if kw["caution"] is not None:
        kw["caution"] = " ".join(str(kw["caution"]).split())
    return Claim(**kw)


def load_claims_file(path: str | os.PathLike[str]) -> list[Claim]:
    """Read and validate one claims file.

    Raises
    ------
    ValueError
        One line naming the file and the offending claim id (duplicate id, unknown kind, unknown
        check test, arguments that do not fit the test, ...).
    """
    path = Path(path)
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except yaml.YAMLError as err:
        first = " ".join(str(err).split())
        raise ValueError(f"{path}: not valid YAML: {first}") from err
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ValueError(f"{path}: expected a YAML list of claims, got {type(raw).__name__}")
    claims, seen = [], set()
    for i, item in enumerate(raw):
        claim = _parse_claim(item, i, path)
        if claim.id in seen:
            raise ValueError(f"{path}: claim {claim.id}: duplicate id")
        seen.add(claim.id)
        claims.append(claim)
    return claims


def load_claims(paper: str) -> list[Claim]:
    """Claims of one chapter, validated: ``<claims_dir()>/<paper>.yaml`` followed by the files
    ``<claims_dir()>/<paper>/*.yaml`` (one per experiment, in name order), ids unique across all.
    """
    path = claims_dir() / f"{paper}.yaml"
    parts = sorted((claims_dir() / paper).glob("*.yaml"))
    if not path.is_file() and not parts:
        raise FileNotFoundError(f"no claims file {path} for paper {paper!r}")
    claims: list[Claim] = []
    origin: dict[str, Path] = {}
    for file in ([path] if path.is_file() else []) + parts:
        for claim in load_claims_file(file):
            if claim.id in origin:
                raise ValueError(
                    f"{file}: claim {claim.id}: duplicate id (also in {origin[claim.id].name})"
                )
            origin[claim.id] = file
            claims.append(claim)
    return claims


def _paper_text(claim: Claim) -> str:
    if claim.kind == "qualitative" and claim.value is None:
        return "—"
    if claim.value is None or claim.provenance in (None, "missing"):
        return NOT_AVAILABLE
    unit = f" {claim.unit}" if claim.unit else ""
    if claim.provenance == "third-party-summary":
        return f"≈{claim.value:g}{unit} (third-party summary)"
    text = f"{claim.value:g}"
    if claim.std is not None:
        text += f" ± {claim.std:g}"
    text += unit
    return text + (" (recalled)" if claim.provenance == "recalled" else "")


def _narrowed(claim: Claim, ds: xr.Dataset) -> xr.DataArray:
    check = claim.check
    assert check is not None
    if check.variable not in ds.data_vars:
        raise ValueError(f"variable {check.variable!r} not in it (has {list(ds.data_vars)})")
    da = ds[check.variable]
    return da.sel(check.sel) if check.sel else da


def _reduced(da: xr.DataArray, reduce: dict[str, str], keep: str | None = None) -> xr.DataArray:
    for dim, how in reduce.items():
        if dim == keep or dim not in da.dims:  # a single-seed record may have no seed dim
            continue
        if how == "nanmean":
            da = da.mean(dim=dim, skipna=True)
        else:
            da = getattr(da, how)(dim=dim, skipna=False)
    return da


def run_check(claim: Claim, ds: xr.Dataset, where: str = "record") -> CheckResult:
    """Apply ``claim.check`` (sel, reduce, test) to a loaded record."""
    check = claim.check
    if check is None:
        raise ValueError(f"claim {claim.id} has no check")
    try:
        da = _reduced(_narrowed(claim, ds), check.reduce)
        return CHECKS[check.test](da, unit=claim.unit, **check.args)
    except (ValueError, KeyError, TypeError, IndexError) as err:
        raise ValueError(f"claim {claim.id}: check on {where} failed: {err}") from err


def seed_values(claim: Claim, ds: xr.Dataset) -> xr.DataArray | None:
    """The check's input with the seed dimension kept (``None`` when there is none to keep).

    Every reduction of ``check.reduce`` but the seed's is applied, in order, so the result has
    the dimensions the check sees plus ``seed``.
    """
    check = claim.check
    if check is None:
        return None
    da = _narrowed(claim, ds)
    if SEED_DIM not in da.dims:
        return None
    return _reduced(da, check.reduce, keep=SEED_DIM)


def _on_seeds(da_s: xr.DataArray, sel: dict[str, Any]) -> np.ndarray:
    part = da_s.sel(sel) if sel else da_s
    if set(part.dims) != {SEED_DIM}:
        raise ValueError(f"contrast selection {sel} leaves dims {list(part.dims)}, not seed")
    return np.asarray(part.values, dtype=float)


def _n_seeds(da_s: xr.DataArray | None) -> int:
    return 1 if da_s is None else int(da_s.sizes[SEED_DIM])


def _missing_levels(claim: Claim, ds: xr.Dataset) -> list[str]:
    """Required levels (``check.require``) absent from the record or entirely NaN."""
    check = claim.check
    if check is None or not check.require:
        return []
    if check.variable not in ds.data_vars:
        raise ValueError(f"variable {check.variable!r} not in the record")
    da = ds[check.variable]  # before check.sel: a selected level may be the missing one
    missing = []
    for dim, labels in check.require.items():
        have = {str(v) for v in da[dim].values} if dim in da.coords else set()
        for label in labels:
            if str(label) not in have:
                missing.append(f"{dim}={label}")
                continue
            key = next(v for v in da[dim].values if str(v) == str(label))
            if not np.isfinite(np.asarray(da.sel({dim: key}).values, dtype=float)).any():
                missing.append(f"{dim}={label}")
    return missing


def _judge_comparison(claim: Claim, result: CheckResult, ds: xr.Dataset) -> tuple[str, list[str]]:
    """Seed-aware verdict of a pass/fail check (see :mod:`freqbook.results.seednoise`)."""
    check = claim.check
    assert check is not None
    how = check.reduce.get(SEED_DIM)
    da_s = None if check.deterministic else seed_values(claim, ds)
    if check.deterministic:
        return ("reproduced" if result.passed else "not reproduced"), ["deterministic check"]
    if how in SEED_WORST_REDUCERS and da_s is not None:
        n = _n_seeds(da_s)
        if not result.passed:
            return "not reproduced", [f"fails on at least one of {n} seeds"]
        if n < 2:
            return "inconclusive", ["one seed: seed noise unknown"]
        return "reproduced", [f"holds on every one of {n} seeds"]
    contrasts = result.detail.get("contrasts") or []
    if not contrasts:
        return ("reproduced" if result.passed else "not reproduced"), []
    if how not in SEED_MEAN_REDUCERS:
        da_s = None
    mean_view = _reduced(_narrowed(claim, ds), check.reduce)
    intervals: list[tuple[Contrast, Interval]] = []
    strict = how in ("mean", "median")  # every seed is required; ``nanmean`` skips gaps
    for c in contrasts:
        view = da_s if da_s is not None else mean_view.expand_dims(SEED_DIM)
        plus = _on_seeds(view, c.plus)
        minus = c.minus if isinstance(c.minus, float) else _on_seeds(view, c.minus)
        sides = [plus] if isinstance(minus, float) else [plus, minus]
        if strict and any(np.isnan(x).any() for x in sides):
            return "not reproduced", [f"NaN on some seed ({c.label}); the check needs every seed"]
        intervals.append((c, effect_interval(plus, minus, sign=c.sign, margin=c.margin)))
    outcome = combine([iv.outcome for _, iv in intervals])
    n = max((iv.n for _, iv in intervals), default=0)
    notes: list[str] = []
    if outcome == "missing":
        gone = [c.label for c, iv in intervals if iv.outcome == "missing"]
        return "not run", ["not run: " + ", ".join(gone)]
    if outcome == "yes":
        tight = min(intervals, key=lambda ci: ci[1].lower)[1]
        notes.append(f"beyond seed noise (n = {n}, {tight.method}; 95 % bound "
                     f"{fmt_number(tight.lower)} above the margin)")
        verdict = "reproduced"
        chance_note = _chance_note(claim, ds, result, da_s)
        if chance_note:
            return "inconclusive", [chance_note]
        return verdict, notes
    if outcome == "no":
        worst = [c.label for c, iv in intervals if iv.outcome == "no"]
        return "not reproduced", [f"opposite beyond seed noise (n = {n}): " + ", ".join(worst)]
    unsure = [c.label for c, iv in intervals if iv.outcome == "unsure"]
    if n < 2:
        why = "one seed: seed noise unknown"
    else:
        why = f"within seed noise, n = {n}"
    side = "mean agrees" if result.passed else "mean disagrees"
    return "inconclusive", [f"{why} ({side}; " + ", ".join(unsure) + ")"]


def _chance_note(
    claim: Claim, ds: xr.Dataset, result: CheckResult, da_s: xr.DataArray | None
) -> str:
    """A note when ``check.chance`` is set and our accuracy is within noise of it, else ``""``."""
    check = claim.check
    if check is None or check.chance is None or result.ours is None:
        return ""
    var = str(check.chance["variable"])
    if var not in ds.data_vars:
        raise ValueError(f"claim {claim.id}: chance variable {var!r} not in the record")
    rate_da = ds[var]
    if check.chance.get("sel"):
        rate_da = rate_da.sel(dict(check.chance["sel"]))
    rate = float(np.nanmean(np.asarray(rate_da.values, dtype=float)))
    if da_s is not None:
        per_seed = []
        for i in range(_n_seeds(da_s)):
            one = CHECKS[check.test](da_s.isel({SEED_DIM: i}), unit=claim.unit, **check.args)
            per_seed.append(np.nan if one.ours is None else one.ours)
        iv = effect_interval(np.asarray(per_seed), rate)
    else:
        iv = effect_interval(np.asarray([result.ours]), rate)
    if iv.outcome == "yes":
        return ""
    return (f"within noise of the majority-class rate {fmt_number(rate)}"
            f"{' ' + claim.unit if claim.unit else ''}")


def _judge(
    claim: Claim, result: CheckResult, ds: xr.Dataset, profile: str
) -> tuple[str, float | str, list[str]]:
    """(verdict, delta, notes) of a claim whose check ran."""
    notes: list[str] = []
    ours = result.ours
    against_paper = claim.kind == "quantitative" and claim.has_paper_value and ours is not None
    like = claim.like_for_like(against_paper)
    if against_paper:
        assert claim.value is not None and ours is not None
        if math.isnan(ours):
            return "not reproduced", "", ["our value is NaN"]
        if not claim.comparable:
            return "not comparable", "", ["measured on another dataset or protocol"]
        if like is not None and profile not in like:
            return "not comparable", "", [
                f"paper's setting is matched only at profile {', '.join(like)}"]
        delta = ours - claim.value
        tol = claim.effective_tolerance or 0.0
        notes.append(f"tolerance ±{fmt_number(tol)}{' ' + claim.unit if claim.unit else ''}")
        if result.passed is False:
            notes.append(f"check '{claim.check.test if claim.check else ''}' failed")
        within = abs(delta) <= tol * (1 + 1e-9) + 1e-12
        better = {"higher_better": delta > 0, "lower_better": delta < 0}.get(claim.direction or "")
        if within or better:
            da_s = seed_values(claim, ds) if claim.check else None
            chance_note = _chance_note(claim, ds, result, da_s)
            if chance_note:
                return "inconclusive", delta, [*notes, chance_note]
        if within:
            return "reproduced", delta, notes
        if better and claim.role == "baseline":
            return "not reproduced", delta, [
                *notes, "baseline better than the paper reported: weakens the paper's comparison"]
        return ("reproduced-better" if better else "not reproduced"), delta, notes
    if result.passed is None:
        return "qualitative-only", "", notes
    if like is not None and profile not in like:
        outcome = "holds" if result.passed else "does not hold"
        return "not comparable", "", [
            f"comparison {outcome} on the mean, but is fair only at profile {', '.join(like)}"]
    verdict, more = _judge_comparison(claim, result, ds)
    return verdict, "", notes + more


def _row(claim: Claim, ours: str, delta: float | str, verdict: str, notes: list[str]) -> dict:
    if claim.provenance == "recalled" and claim.value is not None:
        notes = ["paper value recalled, unconfirmed", *notes]
    if claim.caution:
        notes = [f"caution: {claim.caution}", *notes]
    if claim.note:  # the claim's own caveat (different dataset, profile restrictions, ...)
        notes = [*notes, " ".join(claim.note.split())]
    cells = (claim.id, claim.where, claim.text, _paper_text(claim), ours, delta, verdict)
    return dict(zip(COLUMNS, (*cells, "; ".join(notes)), strict=True))


def evaluate(
    paper: str,
    profile: str,
    root: Path | None = None,
    *,
    ids: list[str] | None = None,
    claims: list[Claim] | None = None,
) -> pd.DataFrame:
    """Compare the claims of ``paper`` with the records of ``profile``.

    Parameters
    ----------
    paper
        Chapter key; claims from ``<claims_dir()>/<paper>.yaml`` unless ``claims`` is given.
    profile
        Profile whose records are read.
    root
        Results folder (default :func:`~freqbook.results.record.results_root`).
    ids
        Only these claim ids, in this order (unknown ids raise ``KeyError``).
    claims
        Claims to evaluate instead of reading the file.

    Returns
    -------
    pandas.DataFrame
        Columns ``id, where, claim, paper, ours, delta, verdict, note``; ``delta`` is
        ``ours - paper`` where the paper's value was judged, else ``""``.

    Notes
    -----
    * no check -> ``no check``; profile not in ``check.profiles``, record missing or a
      required level (``check.require``) absent -> ``not run``;
    * quantitative claim with a paper value (paper, transcription, author repo, recalled): at
      a profile whose setting is not the paper's (``check.like_for_like``, default ``paper``)
      or with ``comparable: false`` -> ``not comparable`` (no delta); else within tolerance ->
      ``reproduced``; better beyond it -> ``reproduced-better`` (``not reproduced`` for a
      ``role: baseline`` claim); else ``not reproduced``. An accuracy within noise of
      ``check.chance`` never passes (``inconclusive``);
    * a pass/fail check (comparisons, thresholds) is judged on the per-seed values: the
      one-sided 95 % interval of the mean effect (:mod:`freqbook.results.seednoise`) above the
      margin -> ``reproduced``, below it -> ``not reproduced``, else ``inconclusive`` (always
      with a single seed unless ``check.deterministic``); worst-case seed reductions (max/min)
      need every one of at least two seeds; a comparison at a profile outside its
      ``like_for_like`` -> ``not comparable``;
    * a check that only measures a number -> ``qualitative-only``.
    """
    items = claims if claims is not None else load_claims(paper)
    if ids is not None:
        by_id = {c.id: c for c in items}
        missing = [i for i in ids if i not in by_id]
        if missing:
            raise KeyError(f"unknown claim id(s) for {paper!r}: {missing}")
        items = [by_id[i] for i in ids]
    cache: dict[Path, xr.Dataset | None] = {}
    rows = []
    for claim in items:
        check = claim.check
        if check is None:
            rows.append(_row(claim, "", "", "no check", ["no check defined"]))
            continue
        if not check.applies_to(profile):
            shown = ", ".join(check.profiles or ())
            note = f"not checked at profile '{profile}' (only: {shown})"
            rows.append(_row(claim, "", "", "not run", [note]))
            continue
        chapter = check.paper or paper
        path = record_path(chapter, check.experiment, profile, root)
        if path not in cache:
            cache[path] = load_record_file(path) if path.is_file() else None
        ds = cache[path]
        if ds is None:
            note = f"no record {profile}/{chapter}/{check.experiment}.nc (run notebooks/{chapter}/)"
            rows.append(_row(claim, "", "", "not run", [note]))
            continue
        try:
            gone = _missing_levels(claim, ds)
        except (ValueError, KeyError) as err:
            raise ValueError(f"claim {claim.id}: check.require on {path} failed: {err}") from err
        if gone:
            note = f"{len(gone)} required level(s) not run: {', '.join(gone)}"
            rows.append(_row(claim, "", "", "not run", [note]))
            continue
        result = run_check(claim, ds, where=str(path))
        try:
            verdict, delta, notes = _judge(claim, result, ds, profile)
        except (ValueError, KeyError, TypeError, IndexError) as err:
            raise ValueError(f"claim {claim.id}: judging on {path} failed: {err}") from err
        rows.append(_row(claim, result.ours_text, delta, verdict, notes))
    return pd.DataFrame(rows, columns=list(COLUMNS))


def verdict_counts(df: pd.DataFrame) -> dict[str, int]:
    """``{verdict: count}`` for every verdict (zeros included), in :data:`VERDICTS` order."""
    counts = df["verdict"].value_counts() if len(df) else {}
    return {v: int(counts.get(v, 0)) for v in VERDICTS}
