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

Verdicts: ``reproduced``, ``reproduced-better``, ``qualitative-only``, ``not reproduced``,
``not run`` (see :func:`evaluate`).
"""

from __future__ import annotations

import inspect
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pandas as pd
import xarray as xr
import yaml

from freqbook import provenance
from freqbook.results.checks import CHECKS, CheckResult, fmt_number
from freqbook.results.record import load_record_file, record_path

VERDICTS = ("reproduced", "reproduced-better", "qualitative-only", "not reproduced", "not run")
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
    "confidence provenance note tolerance check comparable".split()
)
CHECK_FIELDS = tuple("experiment variable test args reduce sel profiles paper unit".split())
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
    """``$FREQBOOK_CLAIMS``, else ``<checkout>/data/claims``, else ``./data/claims``."""
    env = os.environ.get("FREQBOOK_CLAIMS")
    if env:
        return Path(env).expanduser()
    root = provenance.repo_root()
    return (root if root is not None else Path.cwd()) / "data" / "claims"


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


def run_check(claim: Claim, ds: xr.Dataset, where: str = "record") -> CheckResult:
    """Apply ``claim.check`` (sel, reduce, test) to a loaded record."""
    check = claim.check
    if check is None:
        raise ValueError(f"claim {claim.id} has no check")
    try:
        if check.variable not in ds.data_vars:
            raise ValueError(f"variable {check.variable!r} not in it (has {list(ds.data_vars)})")
        da = ds[check.variable]
        if check.sel:
            da = da.sel(check.sel)
        for dim, how in check.reduce.items():
            if dim in da.dims:  # a single-seed record may have no seed dimension at all
                if how == "nanmean":
                    da = da.mean(dim=dim, skipna=True)
                else:
                    da = getattr(da, how)(dim=dim, skipna=False)
        return CHECKS[check.test](da, unit=claim.unit, **check.args)
    except (ValueError, KeyError, TypeError, IndexError) as err:
        raise ValueError(f"claim {claim.id}: check on {where} failed: {err}") from err


def _judge(claim: Claim, result: CheckResult) -> tuple[str, float | str, list[str]]:
    """(verdict, delta, notes) of a claim whose check ran."""
    notes: list[str] = []
    ours = result.ours
    if claim.kind == "quantitative" and claim.has_paper_value and ours is not None:
        assert claim.value is not None
        if result.passed is False:
            notes.append(f"check '{claim.check.test if claim.check else ''}' failed")
        if math.isnan(ours):
            return "not reproduced", "", notes + ["our value is NaN"]
        delta = ours - claim.value
        if not claim.comparable:
            return "qualitative-only", delta, notes + ["not comparable with the paper's value"]
        tol = claim.effective_tolerance or 0.0
        notes.append(f"tolerance ±{fmt_number(tol)}{' ' + claim.unit if claim.unit else ''}")
        if abs(delta) <= tol * (1 + 1e-9) + 1e-12:
            return "reproduced", delta, notes
        better = {"higher_better": delta > 0, "lower_better": delta < 0}.get(claim.direction or "")
        return ("reproduced-better" if better else "not reproduced"), delta, notes
    if result.passed is None:
        return "qualitative-only", "", notes
    return ("reproduced" if result.passed else "not reproduced"), "", notes


def _row(claim: Claim, ours: str, delta: float | str, verdict: str, notes: list[str]) -> dict:
    if claim.provenance == "recalled" and claim.value is not None:
        notes = ["paper value recalled, unconfirmed", *notes]
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
        ``ours - paper`` where both numbers exist, else ``""``.

    Notes
    -----
    * no check, profile not in ``check.profiles`` or record missing -> ``not run``;
    * quantitative claim with a paper value (paper, transcription, author repo, recalled):
      within tolerance -> ``reproduced``; better beyond it (per ``direction``) ->
      ``reproduced-better``; else ``not reproduced``. A failing pass/fail test is noted only;
    * otherwise the check's pass/fail test decides ``reproduced`` / ``not reproduced``, and a
      check that only measures a number gives ``qualitative-only``.
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
            rows.append(_row(claim, "", "", "not run", ["no check defined"]))
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
        result = run_check(claim, ds, where=str(path))
        verdict, delta, notes = _judge(claim, result)
        rows.append(_row(claim, result.ours_text, delta, verdict, notes))
    return pd.DataFrame(rows, columns=list(COLUMNS))


def verdict_counts(df: pd.DataFrame) -> dict[str, int]:
    """``{verdict: count}`` for every verdict (zeros included), in :data:`VERDICTS` order."""
    counts = df["verdict"].value_counts() if len(df) else {}
    return {v: int(counts.get(v, 0)) for v in VERDICTS}
