"""Assemble and render the book (Jupyter Book 1, ``execute_notebooks: off``).

``python -m freqbook build`` copies ``book/`` and the executed notebooks of ``build/notebooks``
into a staging folder, writes the status page from the runner's metadata and the claims
comparator, and renders HTML into ``build/html`` (replaced only when rendering succeeded).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from freqbook.profiles import DEFAULT_PROFILE, check_profile
from freqbook.runner import RunError, discover, project_root, read_meta, stage_dir

VERDICT_ORDER = ("reproduced", "reproduced-better", "qualitative-only", "not reproduced", "not run")


def _toc_files(toc: dict) -> list[str]:
    """Every ``file:`` entry of a Jupyter Book ``_toc.yml`` (recursively)."""
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if "file" in node:
                found.append(str(node["file"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc)
    return found


def _verdicts_for(key: str, meta: dict, profile: str) -> dict[str, int] | None:
    """Verdict counts of the claims checked on the records this notebook wrote."""
    from freqbook.results.claims import evaluate, load_claims, verdict_counts

    chapter = key.split("/")[0]
    experiments = {
        Path(p).stem for p in meta.get("records", []) if Path(p).parts[1:2] == (chapter,)
    }
    if not experiments:
        return None
    try:
        claims = load_claims(chapter)
    except FileNotFoundError:
        return None
    ids = [c.id for c in claims if c.check and c.check.experiment in experiments]
    if not ids:
        return None
    return verdict_counts(evaluate(chapter, profile, ids=ids))


def status_markdown(profile: str) -> str:
    """The status page: one row per notebook with profile, wall time, device, sha, verdicts."""
    lines = [
        "# Status of this build",
        "",
        f"Every notebook of the book, as executed for this build (requested profile `{profile}`). "
        "Verdicts count the claims checked on the result records each notebook wrote; see each "
        "chapter's *paper vs ours* table for the claims themselves.",
        "",
        "| notebook | profile | wall time | device | git sha | finished (UTC) | "
        + " | ".join(VERDICT_ORDER)
        + " |",
        "|" + "---|" * (6 + len(VERDICT_ORDER)),
    ]
    total = 0.0
    for key in discover():
        meta = read_meta(key)
        if meta is None:
            lines.append(f"| `{key}` | not run | | | | |" + " |" * len(VERDICT_ORDER))
            continue
        total += float(meta.get("wall_s", 0.0))
        counts = _verdicts_for(key, meta, meta.get("profile", profile)) or {}
        sha = str(meta.get("git_sha", "unknown"))[:10]
        sha += " (dirty)" if meta.get("git_dirty") else ""
        cells = [
            f"[`{key}`](notebooks/{key}.ipynb)",
            str(meta.get("profile")),
            f"{float(meta.get('wall_s', 0.0)):.1f} s",
            str(meta.get("device", "")),
            f"`{sha}`",
            str(meta.get("finished", "")).replace("+00:00", ""),
            *(str(counts.get(v, 0)) if counts else "–" for v in VERDICT_ORDER),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", f"Total notebook wall time: {total / 60:.1f} min."]
    return "\n".join(lines) + "\n"


def assemble(profile: str) -> Path:
    """Copy ``book/`` and the executed notebooks into ``build/book_src``; return that folder."""
    root = project_root()
    src = root / "build" / "book_src"
    shutil.rmtree(src, ignore_errors=True)
    shutil.copytree(root / "book", src)
    staged = stage_dir()
    for key in discover():
        executed = staged / f"{key}.ipynb"
        if executed.exists():
            dest = src / "notebooks" / f"{key}.ipynb"
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(executed, dest)
    (src / "status.md").write_text(status_markdown(profile))
    toc = yaml.safe_load((src / "_toc.yml").read_text())
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


def build(profile: str = DEFAULT_PROFILE, *, strict: bool = True) -> Path:
    """Render the book into ``build/html``; returns the path of ``index.html``."""
    check_profile(profile)
    root = project_root()
    src = assemble(profile)
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
