"""Assemble and render the book (Jupyter Book 1, ``execute_notebooks: off``).

``python -m freqbook build`` copies ``book/`` and the executed notebooks of ``build/notebooks``
into a staging folder and renders HTML into ``build/html`` (replaced only when rendering
succeeded). At staging it also

* writes the generated pages: the status of this build (:func:`status_markdown`), the chapter
  list of the landing page (:func:`chapters_markdown`), the measured build times of the
  reproducing page (:func:`timings_markdown`), "All deviations" (from the deviation registers)
  and "Figures" (:func:`figures_markdown`, from the sidecars of
  :func:`freqbook.plotting.save_figure`);
* prepares each notebook for reading: the papermill-injected parameters cell is removed and the
  values it set are shown in the notebook's own ``parameters`` cell; figures saved with
  ``save_figure`` become numbered figures with caption, label and alt text; a "How to cite this
  page" section closes every page;
* copies a local MathJax 3 (the ``mathjax`` package of the ``book`` extra) and the figure files
  (PNG + SVG under ``figures/<chapter>/``) into the HTML, so that the book reads the same without
  a network and figure files keep stable names.
"""

from __future__ import annotations

import ast
import codecs
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from freqbook.profiles import DEFAULT_PROFILE, check_profile
from freqbook.runner import (
    RunError,
    discover,
    notebooks_dir,
    project_root,
    read_meta,
    stage_dir,
)

#: the staged folder whose content is copied verbatim into the HTML root (html_extra_path)
EXTRA = "_extra"
#: where the local MathJax goes inside the HTML (Sphinx resolves ``mathjax_path`` in _static)
MATHJAX_DIR = "_static/mathjax"
MATHJAX_ENTRY = "tex-mml-chtml.js"
#: MathJax 3 components the book loads (the combined TeX/MathML + CHTML bundle loads the rest
#: of these on demand: TeX extensions, CHTML fonts, the context menu and its assistive tools)
MATHJAX_PARTS = (MATHJAX_ENTRY, "input", "output/chtml", "ui", "a11y", "sre", "adaptors")
#: generated pages (file stem in the staged book -> title)
GENERATED = {"status": "Status of this build", "deviations": "All deviations",
             "figures": "Figures"}
#: markers in book pages that staging replaces with generated Markdown
CHAPTERS_MARK = "<!-- freqbook:chapters -->"
TIMINGS_MARK = "<!-- freqbook:timings -->"
INJECTED_TAG = "injected-parameters"
PLANNED = "planned"


# --------------------------------------------------------------------------- table of contents


@dataclass
class Chapter:
    """One part of ``_toc.yml``: a chapter with its index page and notebook pages."""

    key: str
    caption: str
    index: str
    pages: list[str] = field(default_factory=list)

    @property
    def notebooks(self) -> list[str]:
        """Notebook keys (``chapter/stem``) in book order."""
        return [p.removeprefix("notebooks/") for p in self.pages if p.startswith("notebooks/")]

    @property
    def status(self) -> str:
        """``planned`` when the chapter has no notebook pages yet, else ``"N pages"``."""
        n = len(self.notebooks)
        return PLANNED if n == 0 else f"{n} page{'s' if n != 1 else ''}"


def _toc_files(toc: dict) -> list[str]:
    """Every ``file:`` entry of a Jupyter Book ``_toc.yml`` (recursively), in book order."""
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if "file" in node:
                found.append(str(node["file"]))
            for key, value in node.items():
                if key != "file":
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc)
    return found


def load_toc(book: Path | None = None) -> dict:
    """The parsed ``_toc.yml`` of ``book`` (default: the checkout's ``book/``)."""
    folder = book if book is not None else project_root() / "book"
    return yaml.safe_load((folder / "_toc.yml").read_text())


def toc_chapters(toc: dict) -> list[Chapter]:
    """The chapters of the table of contents, in book order.

    A chapter is a ``chapters:`` entry whose ``file`` is ``<key>/index``; its pages are the
    files below it. Parts without such an entry (e.g. "About this build") are skipped.
    """
    out: list[Chapter] = []
    for part in toc.get("parts", []) or []:
        for entry in part.get("chapters", []) or []:
            index = str(entry.get("file", ""))
            if not index.endswith("/index"):
                continue
            out.append(Chapter(key=index.split("/")[0], caption=str(part.get("caption", "")),
                               index=index, pages=_toc_files(entry.get("sections", []))))
    return out


def toc_notebooks(toc: dict) -> list[str]:
    """Every notebook key the table of contents lists, in book order."""
    return [f.removeprefix("notebooks/") for f in _toc_files(toc) if f.startswith("notebooks/")]


def book_order(toc: dict, keys: Iterable[str]) -> list[str]:
    """``keys`` sorted in table-of-contents order; keys not in the toc follow, sorted."""
    order = {k: i for i, k in enumerate(toc_notebooks(toc))}
    keys = list(keys)
    return sorted((k for k in keys if k in order), key=order.__getitem__) + sorted(
        k for k in keys if k not in order
    )


def notebook_title(path: Path) -> str:
    """The first ``# `` heading of a notebook's Markdown cells (else its file stem)."""
    try:
        nb = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return path.stem
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        for line in "".join(cell.get("source", [])).splitlines():
            if line.startswith("# "):
                return line[2:].strip()
    return path.stem


# --------------------------------------------------------------------------- verdicts


def page_claim_ids(chapter: str, stem: str, records: Iterable[str] = ()) -> list[str] | None:
    """The claims a notebook page shows; ``None`` for all of the chapter's claims.

    * ``99-*`` (the chapter's paper-vs-ours page): every claim of the chapter;
    * a page with its own claims file ``data/claims/<chapter>/<stem>.yaml``: those claims;
    * otherwise the claims of ``data/claims/<chapter>.yaml`` checked on the records the page
      wrote (``records``: paths or labels whose stem is the experiment name).
    """
    from freqbook.results.claims import claims_dir, load_claims_file

    if stem.startswith("99"):
        return None
    own = claims_dir() / chapter / f"{stem}.yaml"
    if own.is_file():
        return [c.id for c in load_claims_file(own)]
    top = claims_dir() / f"{chapter}.yaml"
    experiments = {Path(p).stem for p in records if Path(p).parent.name == chapter}
    if not top.is_file() or not experiments:
        return []
    return [c.id for c in load_claims_file(top) if c.check and c.check.experiment in experiments]


def page_verdicts(chapter: str, stem: str, profile: str,
                  records: Iterable[str] = ()) -> dict[str, int] | None:
    """Verdict counts of a page's claims at ``profile``, exactly as the page counts them.

    Uses :func:`freqbook.results.claims.evaluate` and ``verdict_counts`` on
    :func:`page_claim_ids`; ``None`` when the chapter has no claims file or the page no claims.
    """
    from freqbook.results.claims import evaluate, verdict_counts

    try:
        ids = page_claim_ids(chapter, stem, records)
        if ids is not None and not ids:
            return None
        return verdict_counts(evaluate(chapter, profile, ids=ids))
    except FileNotFoundError:
        return None


def verdict_text(counts: dict[str, int] | None) -> str:
    """``"3 reproduced · 1 inconclusive"`` (zeros left out); ``"–"`` without claims."""
    if not counts or not sum(counts.values()):
        return "–"
    return " · ".join(f"{n} {v}" for v, n in counts.items() if n)


# --------------------------------------------------------------------------- status page


def _md(text: object) -> str:
    return str(text).replace("|", "\\|")


def _no_paths(err: object) -> str:
    """An error message without the build machine's checkout path (pages never print it)."""
    text = str(err)
    try:
        text = text.replace(str(project_root()) + os.sep, "")
    except RunError:
        pass
    return text


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds >= 90 else f"{seconds:.0f} s"


def status_markdown(profile: str, toc: dict | None = None,
                    linked: set[str] | None = None) -> str:
    """The status page: each notebook in book order, then the verdicts per chapter.

    Five columns (page, profile, wall time, finished, verdicts); the device and the git revision
    are printed once when every notebook shares them (else lettered notes / a revision column).
    Verdicts are counted with the comparator the pages use (:func:`page_verdicts`); the chapter
    table counts every claim of the chapter, as its *paper vs ours* page does. ``linked``: the
    notebooks that have a page in this build (default: every notebook of ``toc``).
    """
    toc = toc if toc is not None else load_toc()
    src = notebooks_dir()
    keys = book_order(toc, set(discover()) | set(toc_notebooks(toc)))
    linked = set(toc_notebooks(toc)) if linked is None else linked
    metas = {k: read_meta(k) for k in keys}
    ran = {k: m for k, m in metas.items() if m is not None}
    devices = sorted({str(m.get("device", "")) for m in ran.values()})
    shas = sorted({str(m.get("git_sha", "unknown"))[:10] + (" (dirty)" if m.get("git_dirty")
                   else "") for m in ran.values()})
    letters = {d: chr(ord("a") + i) for i, d in enumerate(devices)} if len(devices) > 1 else {}
    lines = [
        f"# {GENERATED['status']}",
        "",
        f"Every notebook of the book in reading order, as executed for this build (requested "
        f"profile `{profile}`). The verdicts are counted by the same comparator as each page's "
        "*paper vs ours* table; the chapter totals below are those of the chapter's last page.",
        "",
    ]
    if len(devices) == 1:
        lines.append(f"**Device:** {_md(devices[0])}.  ")
    if len(shas) == 1:
        lines.append(f"**Revision:** `{shas[0]}`.")
    lines.append("")
    head = ["page", "profile", "wall time", "finished (UTC)", "verdicts"]
    if len(shas) > 1:
        head.insert(4, "revision")
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    total = 0.0
    for key in keys:
        chapter, stem = key.split("/", 1)
        title = notebook_title(src / f"{key}.ipynb")
        link = f"[{_md(title)}](notebooks/{key}.ipynb)" if key in linked else _md(key)
        meta = metas[key]
        if meta is None:
            cells = [link, "not run", "", "", "–"]
            if len(shas) > 1:
                cells.insert(4, "")
            lines.append("| " + " | ".join(cells) + " |")
            continue
        wall = float(meta.get("wall_s", 0.0))
        total += wall
        note = f" ({letters[str(meta.get('device', ''))]})" if letters else ""
        try:
            verdicts = verdict_text(page_verdicts(chapter, stem, str(meta.get("profile", profile)),
                                                  meta.get("records", [])))
        except (ValueError, KeyError) as err:  # a claim that cannot be judged: say so
            verdicts = _md(f"comparator error: {_no_paths(err)}")
        cells = [
            link,
            f"`{meta.get('profile')}`",
            _minutes(wall) + note,
            str(meta.get("finished", "")).replace("+00:00", "").replace("T", " ")[:16],
            verdicts,
        ]
        if len(shas) > 1:
            sha = str(meta.get("git_sha", "unknown"))[:10]
            cells.insert(4, f"`{sha}`" + (" (dirty)" if meta.get("git_dirty") else ""))
        lines.append("| " + " | ".join(cells) + " |")
    if letters:
        lines += ["", *(f"({x}) {_md(d)}  " for d, x in letters.items())]
    lines += ["", f"Total notebook wall time: {_minutes(total)}.", ""]
    lines += chapter_verdicts_markdown(toc, profile)
    return "\n".join(lines) + "\n"


def chapter_verdicts(chapter: str, profile: str) -> dict[str, int] | None:
    """Counts of every claim of ``chapter`` at ``profile`` (as its paper-vs-ours page).

    ``None`` when the chapter has no claims file; a claim that cannot be judged raises.
    """
    from freqbook.results.claims import evaluate, verdict_counts

    try:
        return verdict_counts(evaluate(chapter, profile))
    except FileNotFoundError:
        return None


def chapter_verdicts_markdown(toc: dict, profile: str) -> list[str]:
    """Verdicts (rows) by chapter (columns) for the chapters that have claims."""
    from freqbook.results.claims import VERDICTS

    counted: list[tuple[Chapter, dict[str, int]]] = []
    errors = []
    for c in toc_chapters(toc):
        try:
            n = chapter_verdicts(c.key, _chapter_profile(c, profile))
        except (ValueError, KeyError) as err:
            errors.append(f"{c.key.upper()}: not counted, comparator error: {_md(_no_paths(err))}")
            continue
        if n is not None:
            counted.append((c, n))
    lines = ["## Verdicts by chapter", ""]
    if counted:
        lines += ["| verdict | " + " | ".join(c.key.upper() for c, _ in counted) + " |",
                  "|---|" + "---:|" * len(counted)]
        for v in VERDICTS:
            lines.append(f"| {v} | " + " | ".join(str(n.get(v, 0)) for _, n in counted) + " |")
        lines.append("| **claims** | "
                     + " | ".join(f"**{sum(n.values())}**" for _, n in counted) + " |")
    lines += ["", *(f"- {e}" for e in errors)] if errors else []
    return lines if counted or errors else []


def _chapter_profile(chapter: Chapter, profile: str) -> str:
    """The profile the chapter's paper-vs-ours page ran at (else the requested one)."""
    for key in reversed(chapter.notebooks):
        meta = read_meta(key)
        if meta is not None and key.split("/", 1)[1].startswith("99"):
            return str(meta.get("profile", profile))
    return profile


# --------------------------------------------------------------------------- landing page


def chapters_markdown(toc: dict, bib: Any = None) -> str:
    """The landing page's chapter list, from the table of contents, with each one's status.

    With ``bib`` (the parsed ``references.bib``) a column cites each chapter's paper.
    """
    head = "| chapter | paper | status |\n|---|---|---|" if bib is not None else (
        "| chapter | status |\n|---|---|")
    lines = [head]
    for c in toc_chapters(toc):
        cells = [f"{{doc}}`{_md(c.caption)} <{c.index}>`"]
        if bib is not None:
            cells.append(", ".join(f"{{cite:t}}`{k}`" for k in chapter_papers(bib, c.key))
                         or "–")
        lines.append("| " + " | ".join([*cells, c.status]) + " |")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- timings


def timings_path() -> Path:
    """Wall times of past runs per profile (kept across builds): ``build/timings.json``
    (beside the folder of executed notebooks)."""
    return stage_dir().parent / "timings.json"


def update_timings(keys: Iterable[str]) -> dict[str, dict[str, dict[str, Any]]]:
    """Add the runner's last run of each notebook to the timings ledger; return the ledger."""
    path = timings_path()
    try:
        ledger = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        ledger = {}
    for key in keys:
        meta = read_meta(key)
        if meta is None or "wall_s" not in meta:
            continue
        ledger.setdefault(str(meta.get("profile")), {})[key] = {
            "wall_s": float(meta["wall_s"]),
            "device": str(meta.get("device", "")),
            "finished": str(meta.get("finished", "")),
        }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(ledger, indent=2, sort_keys=True))
    os.replace(tmp, path)
    return ledger


def timings_markdown(ledger: dict[str, dict[str, dict[str, Any]]], keys: list[str]) -> str:
    """Measured notebook wall time per profile (sums of the runner's ``.run.json`` wall times)."""
    lines = []
    for profile in ("cpu", "smoke", "paper"):
        runs = {k: v for k, v in ledger.get(profile, {}).items() if k in keys}
        if not runs:
            if profile == "cpu":
                lines.append("- `cpu`: not yet measured on the machine that built these pages "
                             "(a `make book` records each notebook's wall time).")
            continue
        total = sum(float(r["wall_s"]) for r in runs.values())
        devices = sorted({r["device"] for r in runs.values() if r.get("device")})
        part = "" if len(runs) == len(keys) else f" ({len(runs)} of {len(keys)} notebooks)"
        last = max(str(r.get("finished", ""))[:10] for r in runs.values())
        lines.append(f"- `{profile}`: {_minutes(total)} of notebook execution{part} on "
                     f"{', '.join(devices) or 'an unrecorded device'} (last run {last}).")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- notebooks


def _assignments(source: str) -> dict[str, str]:
    """``name -> value source`` of the top-level assignments in a cell."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    out = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(
            node.targets[0], ast.Name
        ):
            out[node.targets[0].id] = ast.get_source_segment(source, node.value) or ""
    return out


def hide_injected_parameters(nb: dict) -> dict:
    """Remove papermill's injected cell; show the values it set in the ``parameters`` cell.

    A line ``profile = "cpu"  # smoke | cpu | paper`` of the parameters cell becomes
    ``profile = "smoke"  # smoke | cpu | paper``, under a comment line
    ``# set by this build; the notebook's default: profile = "cpu"``, when the build injected
    another value, so that the one parameters cell on the page shows what ran. The injected
    cell is kept in the file with the ``remove-cell`` tag.
    """
    cells = nb.get("cells", [])
    injected = next((c for c in cells if INJECTED_TAG in c.get("metadata", {}).get("tags", [])),
                    None)
    if injected is None:
        return nb
    values = _assignments("".join(injected.get("source", [])))
    params = next((c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])),
                  None)
    if params is not None:
        lines = []
        for line in "".join(params.get("source", [])).splitlines():
            m = re.match(r"^(\w+)\s*=\s*(.*?)(\s*#.*)?$", line)
            if m and m.group(1) in values and values[m.group(1)] != m.group(2).strip():
                name, default, comment = m.group(1), m.group(2).strip(), m.group(3) or ""
                lines.append(f"# set by this build; the notebook's default: {name} = {default}")
                line = f"{name} = {values[name]}{comment}"
            lines.append(line)
        params["source"] = "\n".join(lines)
    tags = injected.setdefault("metadata", {}).setdefault("tags", [])
    if "remove-cell" not in tags:
        tags.append("remove-cell")
    return nb


def _figure_meta(output: dict) -> dict | None:
    meta = output.get("metadata", {}).get("freqbook", {})
    return meta.get("figure") if isinstance(meta, dict) else None


def caption_figures(nb: dict) -> dict:
    """Turn figures displayed by ``save_figure`` into captioned, labelled MyST figures.

    A code cell's outputs are split so that each saved figure sits in a cell of its own whose
    metadata carries ``mystnb.figure`` (caption, name = the stable label) and ``mystnb.image``
    (alt text); the extra cells are output-only (``remove-input``).
    """
    new_cells = []
    for cell in nb.get("cells", []):
        outputs = cell.get("outputs", []) if cell.get("cell_type") == "code" else []
        if not any(_figure_meta(o) for o in outputs):
            new_cells.append(cell)
            continue
        segments: list[tuple[dict | None, list[dict]]] = [(None, [])]
        for out in outputs:
            meta = _figure_meta(out)
            if meta is not None:
                segments.append((meta, [out]))
                segments.append((None, []))
            else:
                segments[-1][1].append(out)
        first = True
        for meta, outs in segments:
            if meta is None and not outs and not first:
                continue
            piece = dict(cell)
            piece["metadata"] = json.loads(json.dumps(cell.get("metadata", {})))
            piece["outputs"] = outs
            if not first:  # output-only (myst-nb skips cells whose source is empty)
                piece["source"] = f"# outputs of the cell above ({(meta or {}).get('label', '')})"
                piece.pop("id", None)
                tags = piece["metadata"].setdefault("tags", [])
                tags[:] = [t for t in tags if t not in ("parameters", INJECTED_TAG)]
                tags.append("remove-input")
            if meta is not None:
                mystnb = piece["metadata"].setdefault("mystnb", {})
                mystnb["figure"] = {"caption": meta.get("caption", ""),
                                    "name": meta.get("label", "")}
                mystnb["image"] = {"alt": meta.get("alt", "")}
            new_cells.append(piece)
            first = False
    nb["cells"] = new_cells
    if nb.get("nbformat", 4) >= 4 and nb.get("nbformat_minor", 0) >= 5:
        for i, cell in enumerate(nb["cells"]):
            cell.setdefault("id", f"freqbook-{i}")
    return nb


def cite_cell(key: str, title: str, papers: list[str], labels: list[str]) -> dict:
    """The closing "How to cite this page" Markdown cell of a staged notebook."""
    chapter, stem = key.split("/", 1)
    version = _version()
    text = [
        "## How to cite this page",
        "",
        f"The freqbook authors, *{title}*, in *freqbook: a reproducibility book for sine networks "
        f"and spectral time-series models*, version {version}, page `{chapter}/{stem}` "
        "(see `CITATION.cff`).",
    ]
    if papers:
        text.append("Please cite the original work as well: "
                    + "; ".join(f"{{cite:p}}`{p}`" for p in papers) + ".")
    if labels:
        text += ["", "Figures keep their labels across rebuilds: "
                 + ", ".join(f"{{numref}}`{lab}` (`{lab}`)" for lab in labels)
                 + "; their vector files are listed on the {doc}`Figures page </figures>`."]
    return {"cell_type": "markdown", "metadata": {}, "source": "\n".join(text),
            "id": "freqbook-cite"}


_PARAMS_FENCE = re.compile(r"```params\n(.*?)\n```", re.S)


def render_exercise_params(nb: dict) -> dict:
    """Show exercises' machine-readable ```` ```params ```` blocks as Python a reader types.

    ``{"overrides": {"s1": 0.5}}`` becomes a ``python`` block with ``overrides = {'s1': 0.5}``
    under a comment saying where it goes (the test suite executes the JSON itself).
    """
    def python(match: re.Match) -> str:
        try:
            values = json.loads(match.group(1))
        except json.JSONDecodeError:
            return match.group(0).replace("```params", "```text", 1)
        lines = [f"{k} = {v!r}" for k, v in values.items()] if isinstance(values, dict) else []
        body = "\n".join(["# set in the parameters cell, then run all cells", *lines])
        return f"```python\n{body}\n```"

    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            src = "".join(cell.get("source", []))
            if "```params" in src:
                cell["source"] = _PARAMS_FENCE.sub(python, src)
    return nb


def prepare_notebook(nb: dict, key: str, title: str, papers: list[str]) -> dict:
    """Everything staging does to an executed notebook before it is rendered."""
    nb = hide_injected_parameters(nb)
    nb = render_exercise_params(nb)
    nb = caption_figures(nb)
    labels = [c["metadata"]["mystnb"]["figure"]["name"] for c in nb["cells"]
              if c.get("metadata", {}).get("mystnb", {}).get("figure", {}).get("name")]
    nb["cells"].append(cite_cell(key, title, papers, labels))
    return nb


def _version() -> str:
    from freqbook import __version__

    return str(__version__)


# --------------------------------------------------------------------------- references


def read_bib(path: Path | None = None) -> Any:
    """The parsed ``book/references.bib`` (a :class:`pybtex.database.BibliographyData`)."""
    from pybtex.database import parse_file

    return parse_file(str(path if path is not None else project_root() / "book"
                          / "references.bib"))


def _plain(text: str) -> str:
    """LaTeX markup of a .bib field as plain Unicode text (accents decoded, braces dropped)."""
    import latexcodec  # noqa: F401  (registers the "ulatex" codec)

    return " ".join(codecs.decode(text, "ulatex").replace("{", "").replace("}", "").split())


def _chapters_of(entry: Any, name: str) -> list[str]:
    return [c.strip() for c in entry.fields.get(name, "").split(",") if c.strip()]


def chapter_papers(bib: Any, chapter: str, role: str = "paper") -> list[str]:
    """Keys of the .bib entries that ``chapter`` cites in ``role``.

    An entry is cited by the chapters of its ``chapter`` field in its ``role`` (paper,
    compared, data) and, as ``compared``, by the chapters of its ``compared`` field.
    """
    return [
        k for k, e in bib.entries.items()
        if (e.fields.get("role") == role and chapter in _chapters_of(e, "chapter"))
        or (role == "compared" and chapter in _chapters_of(e, "compared"))
    ]


_CFF_TYPES = {"inproceedings": "conference-paper", "article": "article", "misc": "article",
              "techreport": "report"}


def chapter_references_markdown(bib: Any, chapter: str) -> str:
    """The "References" section appended to a chapter's overview page at staging."""
    groups = [
        ("This chapter reproduces", chapter_papers(bib, chapter, "paper")),
        ("It compares with", chapter_papers(bib, chapter, "compared")),
        ("Data sets:", chapter_papers(bib, chapter, "data")),
    ]
    parts = [f"{head} " + ", ".join(f"{{cite:t}}`{k}`" for k in keys) + "."
             for head, keys in groups if keys]
    if not parts:
        return ""
    return ("\n\n## References\n\n" + " ".join(parts)
            + " Full entries: {doc}`references </references>`.\n")


def cff_reference(entry: Any) -> dict[str, Any]:
    """One ``references:`` item of CITATION.cff from a .bib entry."""
    f = entry.fields
    authors = []
    for p in entry.persons.get("author", []):
        family = _plain(" ".join(p.prelast_names + p.last_names))
        given = _plain(" ".join(p.first_names + p.middle_names))
        authors.append({"family-names": family, "given-names": given} if given
                       else {"name": family})
    ref: dict[str, Any] = {"type": _CFF_TYPES.get(entry.type, "generic"),
                           "title": _plain(f["title"]), "authors": authors,
                           "year": int(f["year"])}
    if "booktitle" in f:
        ref["collection-title"] = _plain(f["booktitle"])
    if "journal" in f:
        ref["journal"] = _plain(f["journal"])
    if "institution" in f:
        ref["institution"] = {"name": _plain(f["institution"])}
    for bib_key, cff_key in (("volume", "volume"), ("number", "issue")):
        if bib_key in f and entry.type != "techreport":
            value = _plain(f[bib_key])
            ref[cff_key] = int(value) if cff_key == "volume" and value.isdigit() else value
    if entry.type == "techreport" and "number" in f:
        ref["number"] = _plain(f["number"])
    if "pages" in f:
        start, _, end = _plain(f["pages"]).replace("–", "-").partition("-")
        start, end = start.strip("-"), end.strip("-")
        ref["start"] = int(start) if start.isdigit() else start
        if end:
            ref["end"] = int(end) if end.isdigit() else end
    if "doi" in f:
        ref["doi"] = f["doi"]
    if f.get("archiveprefix", "").lower() == "arxiv" and "eprint" in f:
        ref["identifiers"] = [{"type": "other", "value": f"arXiv:{f['eprint']}"}]
    if "note" in f:
        ref["notes"] = _plain(f["note"])
    return ref


def cff_references(bib: Any) -> list[dict[str, Any]]:
    """CITATION.cff's ``references:``, one per .bib entry, in .bib order."""
    return [cff_reference(e) for e in bib.entries.values()]


def write_cff_references(cff: Path | None = None, bib: Any = None) -> Path:
    """Rewrite the ``references:`` block of CITATION.cff from the .bib (rest untouched)."""
    path = cff if cff is not None else project_root() / "CITATION.cff"
    text = path.read_text()
    head = text.split("\nreferences:", 1)[0].rstrip("\n") + "\n"
    block = yaml.safe_dump({"references": cff_references(bib if bib is not None
                                                         else read_bib())},
                           sort_keys=False, allow_unicode=True, width=100)
    path.write_text(head + block)
    return path


# --------------------------------------------------------------------------- figures


def figure_sidecars(root: Path | None = None) -> dict[str, list[dict[str, Any]]]:
    """``{chapter: [sidecar, ...]}`` of the saved figures, by page then number."""
    from freqbook.plotting import figures_root

    base = root if root is not None else figures_root()
    out: dict[str, list[dict[str, Any]]] = {}
    for side in sorted(base.glob("*/*.json")) if base.is_dir() else []:
        try:
            meta = json.loads(side.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        out.setdefault(side.parent.name, []).append(meta)
    for metas in out.values():
        metas.sort(key=lambda m: (str(m.get("page")), int(m.get("number", 0))))
    return out


def figures_markdown(sidecars: dict[str, list[dict[str, Any]]], toc: dict) -> str:
    """The "Figures" page: per chapter, each figure's caption, record and vector file."""
    from html import escape

    lines = [
        f"# {GENERATED['figures']}",
        "",
        "Every figure of the book as a file for slides and handouts: SVG (vector) and PNG, "
        "named by page and figure number (names stay the same across rebuilds), with the "
        "result record it was drawn from. Each figure's label is its anchor on its page.",
        "",
    ]
    chapters = {c.key: c for c in toc_chapters(toc)}
    order = [c for c in chapters if c in sidecars] + sorted(c for c in sidecars
                                                            if c not in chapters)
    if not order:
        lines.append("No figure of this build was saved with `freqbook.plotting.save_figure` "
                     "yet.")
    for ch in order:
        cap = chapters[ch].caption if ch in chapters else ch
        lines += [f"## {cap}", ""]
        for m in sidecars[ch]:
            page, num = str(m.get("page")), int(m.get("number", 0))
            files = m.get("files", {})
            key = f"{ch}/{page}"
            label = str(m.get("label", ""))
            # on a page of this build the label is a target: link straight to the figure
            where = (f"{{ref}}`{key}, figure {num} <{label}>`" if key in toc_notebooks(toc)
                     else f"`{key}`, figure {num}")
            records = ", ".join(f"`{r}`" for r in m.get("records", [])) or "no record named"
            links = " · ".join(
                f'<a href="figures/{escape(ch)}/{escape(name)}">{ext.upper()}</a>'
                for ext, name in sorted(files.items(), key=lambda kv: kv[0] != "svg")
            )
            lines += [
                f"**{where}** (`{label}`) — {m.get('caption', '')}",
                "",
                f"Record: {records}. Files: {links}.",
                "",
            ]
    return "\n".join(lines) + "\n"


def copy_figures(sidecars: dict[str, list[dict[str, Any]]], dest: Path,
                 root: Path | None = None) -> int:
    """Copy the figure files named by the sidecars to ``dest/<chapter>/``; return the count."""
    from freqbook.plotting import figures_root

    base = root if root is not None else figures_root()
    n = 0
    for ch, metas in sidecars.items():
        for m in metas:
            for name in m.get("files", {}).values():
                src = base / ch / name
                if src.is_file():
                    (dest / ch).mkdir(parents=True, exist_ok=True)
                    shutil.copy2(src, dest / ch / name)
                    n += 1
    return n


# --------------------------------------------------------------------------- MathJax


def mathjax_source() -> Path:
    """The ``es5`` folder of the MathJax 3 distribution installed with the ``book`` extra."""
    try:
        import mathjax  # the `django-static-mathjax` distribution: MathJax 3.2 as static files
    except ImportError as err:
        raise RunError(
            "MathJax for offline reading is missing: pip install -e '.[book]' "
            "(it brings django-static-mathjax)"
        ) from err
    es5 = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    if not (es5 / MATHJAX_ENTRY).is_file():
        raise RunError(f"MathJax 3 not found in {es5.parent} ({MATHJAX_ENTRY} missing)")
    return es5


def copy_mathjax(dest: Path) -> Path:
    """Copy MathJax's components into ``dest`` (the HTML's ``_static/mathjax``)."""
    es5 = mathjax_source()
    for part in MATHJAX_PARTS:
        src = es5 / part
        if src.is_dir():
            shutil.copytree(src, dest / part, dirs_exist_ok=True)
        elif src.is_file():
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / part)
    licence = es5.parent / "LICENSE"
    if licence.is_file():
        shutil.copy2(licence, dest / "LICENSE")
    return dest / MATHJAX_ENTRY


# --------------------------------------------------------------------------- staging


def _chapter_titles(toc: dict) -> dict[str, str]:
    return {c.key: c.caption for c in toc_chapters(toc)}


def prune_toc(toc: Any, present: set[str]) -> Any:
    """``toc`` without the notebook pages whose key is not in ``present``."""
    if isinstance(toc, dict):
        out = {k: prune_toc(v, present) for k, v in toc.items()}
        if out.get("sections") == []:
            del out["sections"]
        return out
    if isinstance(toc, list):
        return [prune_toc(x, present) for x in toc
                if not (isinstance(x, dict) and str(x.get("file", "")).startswith("notebooks/")
                        and str(x["file"]).removeprefix("notebooks/") not in present)]
    return toc


def assemble(profile: str, *, partial: bool = False) -> Path:
    """Stage ``book/``, the executed notebooks and the generated pages in ``build/book_src``.

    With ``partial`` the notebooks that have not been executed are left out of the staged table
    of contents (a preview of what exists); otherwise they are an error.
    """
    from freqbook.results.deviations import all_deviations_markdown

    root = project_root()
    src = root / "build" / "book_src"
    shutil.rmtree(src, ignore_errors=True)
    shutil.copytree(root / "book", src)
    toc = full_toc = yaml.safe_load((src / "_toc.yml").read_text())
    if partial:
        present = {k for k in discover() if (stage_dir() / f"{k}.ipynb").exists()}
        toc = prune_toc(toc, present)
        (src / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False))
    bib = read_bib(src / "references.bib")
    staged = stage_dir()
    for key in discover():
        executed = staged / f"{key}.ipynb"
        if executed.exists():
            dest = src / "notebooks" / f"{key}.ipynb"
            dest.parent.mkdir(parents=True, exist_ok=True)
            nb = json.loads(executed.read_text())
            title = notebook_title(notebooks_dir() / f"{key}.ipynb")
            papers = chapter_papers(bib, key.split("/")[0])
            dest.write_text(json.dumps(prepare_notebook(nb, key, title, papers), indent=1))
    (src / "status.md").write_text(
        status_markdown(profile, full_toc, linked=set(toc_notebooks(toc))))
    chapters = [c.key for c in toc_chapters(toc)]
    try:
        devs = all_deviations_markdown(chapters, profile, _chapter_titles(toc))
    except (ValueError, KeyError, OSError) as err:
        if not partial:
            raise RunError(f"the All deviations page cannot be built: {_no_paths(err)}") from err
        parts = []
        for ch in chapters:  # a preview: show every chapter whose register renders
            try:
                parts.append(all_deviations_markdown([ch], profile, _chapter_titles(toc)))
            except (ValueError, KeyError, OSError) as one:
                parts.append(f"```{{warning}}\nThe deviation register of {ch} could not be "
                             f"rendered: {_no_paths(one)}\n```\n")
        devs = "\n".join(parts)
    (src / "deviations.md").write_text(f"# {GENERATED['deviations']}\n\n{devs}")
    sidecars = figure_sidecars()
    (src / "figures.md").write_text(figures_markdown(sidecars, toc))
    extra = src / EXTRA
    copy_figures(sidecars, extra / "figures")
    copy_mathjax(extra / MATHJAX_DIR)
    for ch in chapters:
        index = src / ch / "index.md"
        if index.is_file():
            index.write_text(index.read_text().rstrip("\n") + "\n"
                             + chapter_references_markdown(bib, ch))
    for page, mark, text in (
        ("intro.md", CHAPTERS_MARK, chapters_markdown(full_toc, bib)),
        ("reproducing.md", TIMINGS_MARK,
         timings_markdown(update_timings(toc_notebooks(full_toc)), toc_notebooks(full_toc))),
    ):
        path = src / page
        if path.is_file():
            path.write_text(path.read_text().replace(mark, text))
    missing = [
        f
        for f in _toc_files(toc)
        if not any((src / f).with_suffix(s).exists() for s in (".md", ".ipynb"))
        and not (src / f).exists()
    ]
    if missing:
        keys = [m.removeprefix("notebooks/") for m in missing]
        raise RunError(
            f"the table of contents lists pages that do not exist yet: {', '.join(missing)}; "
            f"run `python -m freqbook run {' '.join(keys)}` first"
        )
    return src


def build(profile: str = DEFAULT_PROFILE, *, strict: bool = True, partial: bool = False) -> Path:
    """Render the book into ``build/html``; returns the path of ``index.html``.

    ``partial``: render only the notebooks executed so far (see :func:`assemble`).
    """
    check_profile(profile)
    root = project_root()
    src = assemble(profile, partial=partial)
    work = root / "build" / "_jb"
    shutil.rmtree(work, ignore_errors=True)
    exe = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(exe) if exe.exists() else "jupyter-book", "build", str(src), "--path-output",
           str(work)]
    if strict:
        cmd += ["-W", "-n", "--keep-going"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ})
    if proc.returncode != 0:
        log = root / "build" / "jupyter-book.log"
        log.write_text(proc.stdout + proc.stderr)
        tail = [ln for ln in (proc.stdout + proc.stderr).splitlines() if "WARNING" in ln or
                "ERROR" in ln][:5]
        raise RunError(
            f"jupyter-book failed (exit {proc.returncode}); full log in {log}: "
            + " | ".join(tail)
        )
    html = root / "build" / "html"
    shutil.rmtree(html, ignore_errors=True)
    shutil.move(str(work / "_build" / "html"), str(html))
    shutil.rmtree(work, ignore_errors=True)
    return html / "index.html"
