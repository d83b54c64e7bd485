"""Execute the book's notebooks with papermill, with a cache, into a staging folder.

``python -m freqbook run`` (see :mod:`freqbook.cli`) calls :func:`run_notebooks`. For each notebook
it computes a cache key from the notebook's source (outputs ignored), the injected parameters, the
``freqbook`` source files the notebook imports (directly or not, :mod:`freqbook.codedeps`) and its
chapter's claims files. A notebook whose key equals the one
stored beside its last successful executed copy is skipped. Executed copies replace the previous
ones only on success (written to a temporary file first), so an interrupted run loses nothing
that had finished. A failing cell stops the run with the notebook and the cell named.

:func:`run_notebooks` (``make book``) holds a lock on the staging folder for the whole run, so a
second run in the same checkout is refused with a one-line message naming the first (a crashed
run's lock is recognised as stale: its process is gone). On a terminal it shows one overall bar over
the notebooks whose ETA comes from each notebook's last recorded wall time, the cells of the
notebook being executed, and the training bars of :mod:`freqbook.train` written by the kernel to a
side file (never into the rendered notebook). Ctrl-C ends with the number of finished notebooks;
rerunning resumes, as finished notebooks are cached.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from freqbook.codedeps import import_closure, imports_of_notebook
from freqbook.profiles import DEFAULT_PROFILE, check_profile
from freqbook.provenance import device_string, git_state, repo_root

META_SUFFIX = ".run.json"
KERNEL_LOG_SUFFIX = ".kernel.log"


class RunError(RuntimeError):
    """A notebook could not be run; the message is one line naming notebook and cell."""


class RunInterrupted(RunError):
    """Ctrl-C during a run; the message says how many notebooks finished and how to resume."""

    def __init__(self, message: str, finished: int, total: int) -> None:
        super().__init__(message)
        self.finished = finished
        self.total = total


def project_root() -> Path:
    """The checkout root (the runner only works from a source checkout)."""
    root = repo_root()
    if root is None:
        raise RunError("the runner needs a source checkout of freqbook (notebooks/ not found)")
    return root


def notebooks_dir() -> Path:
    """Source notebooks: ``notebooks/`` of the checkout (override: ``FREQBOOK_NOTEBOOKS``)."""
    env = os.environ.get("FREQBOOK_NOTEBOOKS")
    return Path(env).resolve() if env else project_root() / "notebooks"


def stage_dir() -> Path:
    """Where executed notebooks go: ``build/notebooks`` (override: ``FREQBOOK_STAGE``)."""
    env = os.environ.get("FREQBOOK_STAGE")
    return Path(env).resolve() if env else project_root() / "build" / "notebooks"


def discover() -> list[str]:
    """All notebooks as ``chapter/name`` keys (no suffix), in execution order."""
    base = notebooks_dir()
    found = [
        p.relative_to(base).with_suffix("").as_posix()
        for p in base.rglob("*.ipynb")
        if ".ipynb_checkpoints" not in p.parts
    ]
    return sorted(found)


def resolve(names: Sequence[str]) -> list[str]:
    """Map user input (keys, paths, file names or chapter names) to notebook keys.

    Raises
    ------
    RunError
        One line listing the valid choices when a name matches nothing.
    """
    every = discover()
    if not names:
        return every
    chosen: list[str] = []
    for raw in names:
        name = raw.removeprefix("notebooks/").removesuffix(".ipynb").strip("/")
        hits = [k for k in every if k == name or k.split("/")[0] == name or Path(k).name == name]
        if not hits:
            raise RunError(f"unknown notebook {raw!r}; valid: {', '.join(every)}")
        chosen.extend(h for h in hits if h not in chosen)
    return chosen


def _files_digest(paths: Iterable[Path], base: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(p.relative_to(base).as_posix().encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def code_fingerprint(notebook: Path | None = None) -> str:
    """sha256 over the ``freqbook`` sources and claims files a notebook can execute and render.

    With ``notebook``: the notebook's import closure inside ``freqbook``
    (:func:`freqbook.codedeps.import_closure`), its chapter's claims
    (``data/claims/<chapter>.yaml`` and ``data/claims/<chapter>/``) and deviation register
    (``data/deviations/<chapter>.yaml``). Without: every source file and every data file.
    """
    root = project_root()
    src = root / "src"
    claims = root / "data" / "claims"
    deviations = root / "data" / "deviations"
    if notebook is None:
        files = [*(src / "freqbook").rglob("*.py"), *claims.rglob("*.yaml"),
                 *deviations.rglob("*.yaml")]
    else:
        chapter = notebook.parent.name
        files = [
            *import_closure(src, imports_of_notebook(notebook)),
            *(claims / chapter).rglob("*.yaml"),
            *[p for p in [claims / f"{chapter}.yaml", deviations / f"{chapter}.yaml"]
              if p.exists()],
        ]
    return _files_digest(files, root)


def notebook_source_digest(path: Path) -> str:
    """sha256 of a notebook's cells (type, source, tags), ignoring outputs and counters."""
    nb = json.loads(path.read_text())
    cells = [
        (c.get("cell_type"), "".join(c.get("source", [])), c.get("metadata", {}).get("tags", []))
        for c in nb.get("cells", [])
    ]
    return hashlib.sha256(json.dumps(cells, sort_keys=True).encode()).hexdigest()


def cache_key(path: Path, parameters: dict[str, Any], code: str | None = None) -> str:
    payload = {
        "notebook": notebook_source_digest(path),
        "parameters": parameters,
        "code": code if code is not None else code_fingerprint(path),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def staged_paths(key: str) -> tuple[Path, Path]:
    """``(executed notebook, run metadata)`` paths of a notebook key."""
    out = stage_dir() / f"{key}.ipynb"
    return out, out.with_name(out.name + META_SUFFIX)


def read_meta(key: str) -> dict[str, Any] | None:
    """Metadata of the last successful run of ``key`` (None if never run)."""
    _, meta = staged_paths(key)
    try:
        return json.loads(meta.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def _write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True))
    os.replace(tmp, path)


def check_parameters(path: Path, parameters: dict[str, Any]) -> None:
    """Raise a one-line :class:`RunError` if a parameter is not declared by the notebook."""
    import papermill

    declared = papermill.inspect_notebook(str(path))
    unknown = sorted(set(parameters) - set(declared))
    if unknown:
        raise RunError(
            f"{path.name}: unknown parameter(s) {', '.join(unknown)}; "
            f"valid: {', '.join(sorted(declared))}"
        )


def _records_snapshot(results: Path) -> dict[str, float]:
    if not results.exists():
        return {}
    return {p.as_posix(): p.stat().st_mtime for p in results.rglob("*.nc")}


def chapter_records_digest(results: Path, profile: str, chapter: str) -> str:
    """Digest of the result records a chapter has at ``profile`` (paths, sizes, mtimes).

    A notebook that writes no record of its own (a chapter's *paper vs ours* page) renders the
    records of the others, so it is stale whenever this digest changes.
    """
    folder = results / profile / chapter
    entries = (
        sorted(
            (p.relative_to(results).as_posix(), p.stat().st_size, p.stat().st_mtime_ns)
            for p in folder.glob("*.nc")
        )
        if folder.exists()
        else []
    )
    return hashlib.sha256(json.dumps(entries).encode()).hexdigest()


@dataclass
class NotebookRun:
    key: str
    status: str  # "ran" or "cached"
    wall_s: float


def _fresh(key: str, digest: str, profile: str) -> tuple[bool, dict[str, Any] | None]:
    """Whether the staged copy of ``key`` is up to date for ``digest``; and its metadata."""
    from freqbook.results.record import results_root

    out, _ = staged_paths(key)
    meta = read_meta(key)
    fresh = meta is not None and meta.get("cache_key") == digest and out.exists()
    if fresh and not meta.get("records"):
        inputs = chapter_records_digest(results_root(), profile, key.split("/")[0])
        fresh = meta.get("records_digest") == inputs  # a page that only reads records
    return fresh, meta


def _kernel_manager_class(log_path: Path):
    """A kernel manager whose kernel writes its own stderr/stdout to ``log_path``.

    The notebook's outputs are unaffected (ipykernel captures them separately); what goes to the
    log is the kernel process's start-up warning about its TCP transport and, after Ctrl-C, the
    errors of a kernel torn down mid-cell, which would otherwise land on the terminal.
    """
    from jupyter_client import AsyncKernelManager

    class LoggedKernelManager(AsyncKernelManager):
        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
            with open(log_path, "ab") as handle:
                kw.setdefault("stdout", handle)
                kw.setdefault("stderr", handle)
                await super()._async_launch_kernel(kernel_cmd, **kw)

    return LoggedKernelManager


def run_notebook(
    key: str,
    profile: str = DEFAULT_PROFILE,
    extra: dict[str, Any] | None = None,
    *,
    force: bool = False,
    code: str | None = None,
    cell_progress: bool | dict[str, Any] = False,
) -> NotebookRun:
    """Execute one notebook (unless cached) and stage it; see the module docstring.

    ``cell_progress`` is papermill's ``progress_bar`` (a bar over cells; a dict of tqdm options).
    The kernel's own stderr goes to ``<name>.kernel.log`` beside the executed copy.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from freqbook.results.record import results_root

    check_profile(profile)
    src = notebooks_dir() / f"{key}.ipynb"
    parameters = {"profile": profile, **(extra or {})}
    check_parameters(src, parameters)
    digest = cache_key(src, parameters, code)
    out, meta_path = staged_paths(key)
    fresh, meta = _fresh(key, digest, profile)
    if fresh and not force:
        return NotebookRun(key, "cached", float(meta.get("wall_s", 0.0)))

    results = results_root()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.stem + ".partial.ipynb")
    failed = out.with_name(out.stem + ".failed.ipynb")
    kernel_log = out.with_name(out.stem + KERNEL_LOG_SUFFIX)
    kernel_log.unlink(missing_ok=True)
    before = _records_snapshot(results)
    sha, dirty = git_state()  # the code the kernel imports is the code at the start
    start = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(src),
            str(tmp),
            parameters=parameters,
            kernel_name="python3",
            cwd=str(src.parent),
            progress_bar=cell_progress,
            kernel_manager_class=_kernel_manager_class(kernel_log),
        )
    except PapermillExecutionError as err:
        os.replace(tmp, failed)
        raise RunError(
            f"{key}: cell {err.cell_index} (execution count {err.exec_count}) failed with "
            f"{err.ename}: {str(err.evalue).splitlines()[0] if err.evalue else ''} "
            f"- executed copy kept at {failed}"
        ) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    wall = time.perf_counter() - start
    os.replace(tmp, out)
    failed.unlink(missing_ok=True)
    after = _records_snapshot(results)
    # Only this chapter's folder: other runs (another chapter, in parallel) also write records.
    own = (results / profile / key.split("/")[0]).as_posix() + "/"
    written = sorted(p for p, m in after.items() if before.get(p) != m and p.startswith(own))
    _write_json_atomic(
        meta_path,
        {
            "notebook": key,
            "cache_key": digest,
            "profile": profile,
            "parameters": parameters,
            "wall_s": round(wall, 2),
            "device": device_string(),
            "git_sha": sha,
            "git_dirty": dirty,
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
            "records": [Path(p).relative_to(results).as_posix() for p in written],
            "records_digest": chapter_records_digest(results, profile, key.split("/")[0]),
        },
    )
    return NotebookRun(key, "ran", wall)


def last_wall_time(key: str, profile: str) -> float | None:
    """Wall time of the last successful run of ``key`` at ``profile`` (``None``: never timed)."""
    meta = read_meta(key)
    if not meta or meta.get("profile") != profile or "wall_s" not in meta:
        return None
    return float(meta["wall_s"])


def expected_times(
    keys: Sequence[str], profile: str, extra: dict[str, Any] | None = None, *, force: bool = False
) -> list[float | None]:
    """Per notebook, the seconds it is expected to take in this run (see :func:`remaining`).

    ``0`` for a notebook the cache will skip, its last wall time at ``profile`` for one that will
    execute, ``None`` when it never ran at ``profile``. A page that only reads its chapter's
    records re-executes whenever an earlier notebook of the chapter does.
    """
    parameters = {"profile": profile, **(extra or {})}
    expected: list[float | None] = []
    rerun_chapters: set[str] = set()
    for key in keys:
        chapter = key.split("/")[0]
        fresh, meta = _fresh(key, cache_key(notebooks_dir() / f"{key}.ipynb", parameters), profile)
        if fresh and not meta.get("records") and chapter in rerun_chapters:
            fresh = False
        if fresh and not force:
            expected.append(0.0)
        else:
            rerun_chapters.add(chapter)
            expected.append(last_wall_time(key, profile))
    return expected


def lock_path() -> Path:
    """The run lock: one ``freqbook run`` at a time writes a staging folder."""
    from freqbook.runlock import LOCK_NAME

    return stage_dir() / LOCK_NAME


def _shown(path: Path) -> str:
    root = repo_root()
    try:
        return path.relative_to(root).as_posix() if root else str(path)
    except ValueError:
        return str(path)


def run_notebooks(
    names: Sequence[str] = (),
    profile: str = DEFAULT_PROFILE,
    extra: dict[str, Any] | None = None,
    *,
    force: bool = False,
    log=print,
    display: str = "auto",
) -> list[NotebookRun]:
    """Run the selected notebooks in order, under the run lock, showing progress.

    ``display``: ``bars`` (overall bar with ETA, cells, training bars), ``lines`` (one line per
    notebook through ``log``) or ``auto`` (bars on a terminal).

    Raises
    ------
    RunError
        One line: another run holds the lock, or a notebook failed.
    RunInterrupted
        On Ctrl-C, saying how many notebooks finished; rerunning resumes from there.
    """
    from freqbook.runlock import LockHeld, locked
    from freqbook.runprogress import PROGRESS_FILE_ENV, make_display

    check_profile(profile)
    keys = resolve(names)
    _absolutise_env()
    os.environ.setdefault("FREQBOOK_PROGRESS", "0")  # no widget bars in rendered notebooks
    runs: list[NotebookRun] = []
    current = ""
    try:
        with locked(lock_path(), f"the staging folder {_shown(stage_dir())}"):
            expected = expected_times(keys, profile, extra, force=force)
            shown = make_display(display, keys, expected, profile, log)
            previous = os.environ.get(PROGRESS_FILE_ENV)
            if shown.progress_file is not None:
                os.environ[PROGRESS_FILE_ENV] = str(shown.progress_file.path)
            try:
                for i, key in enumerate(keys):
                    current = key
                    shown.start(i, key)
                    run = run_notebook(key, profile, extra, force=force,
                                       cell_progress=shown.cell_progress())
                    runs.append(run)
                    shown.finish(i, run.status, run.wall_s)
            finally:
                shown.close()
                if previous is None:
                    os.environ.pop(PROGRESS_FILE_ENV, None)
                else:
                    os.environ[PROGRESS_FILE_ENV] = previous
    except LockHeld as err:
        raise RunError(str(err)) from None
    except KeyboardInterrupt:
        raise RunInterrupted(
            f"interrupted during {current}: {len(runs)} of {len(keys)} notebook(s) finished "
            f"(kept in {_shown(stage_dir())}); "
            + ("rerun without --force to resume" if force else "rerun the same command to resume")
            + " - finished notebooks are skipped",
            len(runs),
            len(keys),
        ) from None
    return runs


def _absolutise_env() -> None:
    """Kernels run in the notebook's folder: make path-valued settings absolute first."""
    for var in ("FREQBOOK_DATA", "FREQBOOK_CACHE", "FREQBOOK_RESULTS", "FREQBOOK_CLAIMS"):
        if os.environ.get(var):
            os.environ[var] = str(Path(os.environ[var]).expanduser().resolve())


def clean_stage() -> None:
    """Remove all executed notebooks and their metadata."""
    shutil.rmtree(stage_dir(), ignore_errors=True)


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use: python -m freqbook run")
