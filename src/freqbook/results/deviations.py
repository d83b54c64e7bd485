"""The deviation register: every departure from the paper, as data.

Each chapter keeps ``data/deviations/<chapter>.yaml``, a YAML list of entries::

    - id: poisson-sobel-scale            # unique within the chapter
      topic: Poisson gradient targets    # a few words
      notebooks: [04-poisson]            # pages that list it (omit: the chapter's overview only)
      paper: what the paper says (or "not stated")
      code: what the official code does, file and line where known (or "no official code")
      ours: what this book does
      why: why we depart (or why we follow the code rather than the paper)
      effect: not measured               # or a text, or a record reference:
      # effect:
      #   record: poisson                # experiment of this chapter (profile of the page)
      #   variable: sobel_effect_db      # a variable of that record
      #   sel: {method: siren}           # optional label selection
      #   reduce: {seed: mean}           # optional reductions (mean|max|min|median)
      #   unit: dB
      #   text: SIREN's gradient-supervised PSNR, official minus 2-D Sobel targets
      #   profiles: [cpu, paper]         # where the record measures it (default: all)

``effect`` is *measured* when it names a record (its number is read from the record of the
page's profile whenever the page is built, never typed), *described* when it is a text (an
argument or a one-off observation, labelled as such), and *not measured* otherwise.

Every notebook's "Deviations" section and the book page "All deviations" are rendered from these
files by :func:`deviation_table` and :func:`all_deviations_markdown`; no notebook carries a
hand-written deviation table (a test enforces it).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import yaml

from freqbook.results.checks import fmt_number

FIELDS = ("id", "topic", "notebooks", "paper", "code", "ours", "why", "effect")
EFFECT_FIELDS = ("record", "variable", "sel", "reduce", "unit", "text", "profiles", "paper")
NOT_MEASURED = "not measured"
#: how an effect is known, in the order the overview page counts them
EFFECT_KINDS = ("measured", "described", "not measured")

_Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Effect:
    """Where a deviation's effect is measured (a record variable) or how it is described."""

    text: str = NOT_MEASURED
    record: str | None = None
    variable: str | None = None
    sel: dict[str, Any] = field(default_factory=dict)
    reduce: dict[str, str] = field(default_factory=dict)
    unit: str = ""
    profiles: tuple[str, ...] | None = None
    paper: str | None = None

    @property
    def kind(self) -> str:
        """``measured`` (from a record), ``described`` (a text) or ``not measured``."""
        if self.record:
            return "measured"
        return NOT_MEASURED if self.text.strip().lower() == NOT_MEASURED else "described"


@dataclass(frozen=True)
class Deviation:
    """One entry of a deviation register."""

    id: str
    topic: str
    paper: str
    code: str
    ours: str
    why: str
    effect: Effect
    notebooks: tuple[str, ...] = ()
    chapter: str = ""


def deviations_dir() -> Path:
    """Folder of the registers: ``$FREQBOOK_DEVIATIONS``, else beside the claims folder."""
    env = os.environ.get("FREQBOOK_DEVIATIONS")
    if env:
        return Path(env).expanduser()
    from freqbook.results.claims import claims_dir

    return claims_dir().parent / "deviations"


def _text(raw: Any) -> str:
    return " ".join(str(raw).split()) if raw is not None else ""


def _parse_effect(raw: Any, fail) -> Effect:
    if raw is None:
        return Effect()
    if isinstance(raw, str):
        return Effect(text=_text(raw) or NOT_MEASURED)
    if not isinstance(raw, dict):
        fail("'effect' must be a text or a mapping")
    unknown = sorted(set(raw) - set(EFFECT_FIELDS))
    if unknown:
        fail(f"unknown effect field(s) {unknown}")
    if raw.get("record") and not raw.get("variable"):
        fail("effect.record needs effect.variable")
    profiles = raw.get("profiles")
    if isinstance(profiles, str):
        profiles = [profiles]
    return Effect(
        text=_text(raw.get("text")) or (NOT_MEASURED if not raw.get("record") else ""),
        record=raw.get("record"),
        variable=raw.get("variable"),
        sel=dict(raw.get("sel") or {}),
        reduce=dict(raw.get("reduce") or {}),
        unit=str(raw.get("unit") or ""),
        profiles=tuple(profiles) if profiles else None,
        paper=raw.get("paper"),
    )


def load_deviations_file(path: str | os.PathLike[str], chapter: str = "") -> list[Deviation]:
    """Read and validate one register; a one-line ``ValueError`` names file and entry."""
    path = Path(path)
    raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader) or []
    if not isinstance(raw, list):
        raise ValueError(f"{path}: expected a YAML list of deviations")
    out: list[Deviation] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        did = item.get("id") if isinstance(item, dict) else None

        def fail(msg: str, did=did, i=i) -> NoReturn:
            raise ValueError(f"{path}: deviation {did or f'#{i}'}: {msg}")

        if not isinstance(item, dict):
            fail("each deviation must be a mapping")
        if not isinstance(did, str) or not did:
            fail("'id' must be a non-empty string")
        if did in seen:
            fail("duplicate id")
        seen.add(did)
        unknown = sorted(set(item) - set(FIELDS))
        if unknown:
            fail(f"unknown field(s) {unknown}")
        for key in ("topic", "paper", "code", "ours", "why"):
            if not _text(item.get(key)):
                fail(f"'{key}' is required (write 'not stated' / 'no official code' if so)")
        nbs = item.get("notebooks") or []
        nbs = [nbs] if isinstance(nbs, str) else list(nbs)
        out.append(Deviation(
            id=did, topic=_text(item["topic"]), paper=_text(item["paper"]),
            code=_text(item["code"]), ours=_text(item["ours"]), why=_text(item["why"]),
            effect=_parse_effect(item.get("effect"), fail), notebooks=tuple(map(str, nbs)),
            chapter=chapter,
        ))
    return out


def load_deviations(chapter: str) -> list[Deviation]:
    """The register of ``chapter`` (``[]`` when the chapter has none yet)."""
    path = deviations_dir() / f"{chapter}.yaml"
    return load_deviations_file(path, chapter) if path.is_file() else []


def effect_value(dev: Deviation, profile: str, root: Path | None = None) -> float | None:
    """The measured number of a deviation's effect at ``profile`` (``None``: not available)."""
    eff = dev.effect
    if eff.kind != "measured" or (eff.profiles is not None and profile not in eff.profiles):
        return None
    from freqbook.results.record import load_record_file, record_path

    path = record_path(eff.paper or dev.chapter, str(eff.record), profile, root)
    if not path.is_file():
        return None
    ds = load_record_file(path)
    if eff.variable not in ds.data_vars:
        raise ValueError(f"deviation {dev.id}: record {path.name} has no {eff.variable!r}")
    da = ds[eff.variable]
    if eff.sel:
        da = da.sel(eff.sel)
    for dim, how in eff.reduce.items():
        if dim in da.dims:
            da = getattr(da, how)(dim=dim, skipna=True)
    if da.size != 1:
        raise ValueError(
            f"deviation {dev.id}: effect {eff.variable!r} is not one number "
            f"(dims {dict(da.sizes)}); add sel/reduce"
        )
    return float(np.asarray(da.values).reshape(()))


def effect_text(dev: Deviation, profile: str, root: Path | None = None) -> str:
    """The effect column: the measured number with its description, or the text."""
    eff = dev.effect
    if eff.kind != "measured":
        return eff.text if eff.kind == "described" else NOT_MEASURED
    value = effect_value(dev, profile, root)
    if value is None or math.isnan(value):
        shown = f"not measured at `{profile}`"
    else:
        sign = "+" if value > 0 else ""
        shown = f"**{sign}{fmt_number(value)}{' ' + eff.unit if eff.unit else ''}**"
    return f"{shown}: {eff.text}" if eff.text else shown


def _rows(devs: list[Deviation], profile: str, root: Path | None) -> list[tuple[str, ...]]:
    return [
        (d.topic, f"{d.paper} — *code:* {d.code}", f"{d.ours} — *why:* {d.why}",
         effect_text(d, profile, root))
        for d in devs
    ]


HEADERS = ("topic", "paper — official code", "ours — why", "effect")


def _markdown(rows: list[tuple[str, ...]]) -> str:
    def esc(s: str) -> str:
        return s.replace("|", "\\|")

    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    lines += ["| " + " | ".join(esc(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


class DeviationTable:
    """A deviation table that shows itself in Jupyter (Markdown, so maths renders)."""

    def __init__(self, devs: list[Deviation], profile: str, root: Path | None = None) -> None:
        self.deviations = devs
        self.profile = profile
        self.rows = _rows(devs, profile, root)

    def to_markdown(self) -> str:
        """The table as Markdown (``"no deviations registered"`` when empty)."""
        if not self.rows:
            return "*No deviations registered for this page.*"
        return _markdown(self.rows)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def _repr_html_(self) -> str | None:  # plain-text fallback for non-Markdown frontends
        return None

    def __repr__(self) -> str:
        return self.to_markdown()

    def __len__(self) -> int:
        return len(self.rows)


def deviation_table(
    chapter: str, profile: str, notebook: str | None = None, root: Path | None = None
) -> DeviationTable:
    """The deviations of ``chapter`` listed for ``notebook`` (all of them when ``None``).

    Parameters
    ----------
    chapter
        Chapter key (``siren``, ``winner``, ``cbd``, ...).
    profile
        Profile whose records give the measured effects.
    notebook
        Notebook stem (``"04-poisson"``); entries list their pages in ``notebooks``.
    """
    devs = load_deviations(chapter)
    if notebook is not None:
        devs = [d for d in devs if notebook in d.notebooks]
    return DeviationTable(devs, profile, root)


def effect_counts(devs: list[Deviation]) -> dict[str, int]:
    """``{measured, described, not measured: count}``."""
    return {k: sum(d.effect.kind == k for d in devs) for k in EFFECT_KINDS}


def all_deviations_markdown(
    chapters: list[str], profile: str, titles: dict[str, str] | None = None,
    root: Path | None = None,
) -> str:
    """The book page "All deviations": one section per chapter with its counts and table."""
    titles = titles or {}
    parts = [
        "Every departure of this book from the papers, read from the chapters' deviation "
        "registers (`data/deviations/<chapter>.yaml`). An effect is *measured* when its number "
        f"is read from a result record of this build (profile `{profile}`), *described* when it "
        "is argued or was observed once, and *not measured* otherwise.",
        "",
    ]
    total = {k: 0 for k in EFFECT_KINDS}
    for ch in chapters:
        devs = load_deviations(ch)
        if not devs:
            continue
        counts = effect_counts(devs)
        for k, n in counts.items():
            total[k] += n
        parts += [
            f"## {titles.get(ch, ch)}",
            "",
            f"{len(devs)} deviations: " + ", ".join(f"{n} {k}" for k, n in counts.items()) + ".",
            "",
            _markdown(_rows(devs, profile, root)),
            "",
        ]
    summary = ", ".join(f"{n} {k}" for k, n in total.items())
    parts.insert(2, f"**In all:** {sum(total.values())} deviations ({summary}).\n")
    return "\n".join(parts)
