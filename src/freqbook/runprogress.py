"""What ``make book`` shows while it runs: an ETA from recorded wall times, and the display.

The ETA of a run is the sum, over the notebooks still to execute, of each one's wall time at its
last successful run at the same profile (the ``wall_s`` of its ``.run.json``), less the time the
current notebook has already spent; notebooks the cache will skip count zero, and notebooks never
timed at this profile are counted apart rather than guessed (:func:`remaining`).

On a terminal :class:`BarDisplay` draws three lines: the overall bar over notebooks with the ETA,
the cells of the notebook being executed (papermill's own bar), and the training bar of
:mod:`freqbook.train` that the kernel writes to a side file (:class:`ProgressFile`), so the rendered
notebook never holds it. Elsewhere (a CI log) :class:`LineDisplay` prints one line per notebook.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

PROGRESS_FILE_ENV = "FREQBOOK_PROGRESS_FILE"


@dataclass(frozen=True)
class Eta:
    """Time left: ``seconds`` known from recorded runs, plus ``unknown`` notebooks never timed."""

    seconds: float
    unknown: int = 0

    def __str__(self) -> str:
        return format_eta(self)


def remaining(expected: Sequence[float | None], done: int, elapsed: float = 0.0) -> Eta:
    """Time left after ``done`` notebooks, ``elapsed`` seconds into notebook number ``done``.

    Parameters
    ----------
    expected
        Per notebook, in run order: its last recorded wall time at this profile, ``0`` when the
        cache will skip it, ``None`` when it was never timed at this profile.
    done
        Notebooks finished (the next one, if any, is the current one).
    elapsed
        Seconds the current notebook has run; a notebook past its recorded time counts zero.
    """
    if not 0 <= done <= len(expected):
        raise ValueError(f"done={done} outside 0..{len(expected)}")
    rest = list(expected[done:])
    if not rest:
        return Eta(0.0, 0)
    current, later = rest[0], rest[1:]
    seconds = sum(e for e in later if e is not None)
    if current is not None:
        seconds += max(current - elapsed, 0.0)
    return Eta(float(seconds), sum(e is None for e in rest))


def format_duration(seconds: float) -> str:
    """``45 s``, ``12 min``, ``1 h 05 min``."""
    seconds = max(float(seconds), 0.0)
    if seconds < 90:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


def format_eta(eta: Eta) -> str:
    """``ETA 12 min``, ``ETA 12 min + 3 never timed``, ``ETA unknown (3 never timed)``."""
    if eta.unknown and eta.seconds <= 0:
        return f"ETA unknown ({eta.unknown} never timed at this profile)"
    text = f"ETA {format_duration(eta.seconds)}"
    return f"{text} + {eta.unknown} never timed" if eta.unknown else text


def latest_bar_line(text: str) -> str | None:
    """The training bar currently shown by a tqdm stream written to a file, or ``None``.

    tqdm redraws a bar as ``\\r<line>`` and clears a closed ``leave=False`` bar with
    ``\\r<spaces>\\r``: the last non-empty segment is the current state, and a blank one means
    no bar is running.
    """
    segments = [s for s in re.split(r"[\r\n]", text) if s != ""]
    if not segments or not segments[-1].strip():
        return None
    return segments[-1].strip()


class ProgressFile:
    """A temporary file the kernels write their training bars to (``$FREQBOOK_PROGRESS_FILE``)."""

    def __init__(self) -> None:
        fd, name = tempfile.mkstemp(prefix="freqbook-progress-", suffix=".txt")
        os.close(fd)
        self.path = Path(name)

    def latest(self, tail: int = 4096) -> str | None:
        try:
            with open(self.path, "rb") as f:
                f.seek(max(f.seek(0, os.SEEK_END) - tail, 0))
                return latest_bar_line(f.read().decode("utf-8", "replace"))
        except OSError:
            return None

    def close(self) -> None:
        self.path.unlink(missing_ok=True)


class LineDisplay:
    """One line per notebook (logs, pipes): name, ETA at its start, and how it ended."""

    progress_file: ProgressFile | None = None

    def __init__(self, keys: Sequence[str], expected: list[float | None], profile: str,
                 log: Callable[[str], Any] = print) -> None:
        self.keys, self.expected, self.profile, self.log = list(keys), expected, profile, log

    def cell_progress(self) -> bool | dict[str, Any]:
        return False

    def start(self, index: int, key: str) -> None:
        last = self.expected[index]
        when = "never timed" if last is None else f"last run {format_duration(last)}"
        self.log(f"[{index + 1}/{len(self.keys)}] {key} (profile {self.profile}; {when}; "
                 f"{remaining(self.expected, index)})")

    def finish(self, index: int, status: str, wall_s: float) -> None:
        if status == "ran":
            self.log(f"    done in {wall_s:.1f} s")
        else:
            self.log(f"    unchanged since last run ({wall_s:.1f} s then): skipped")

    def close(self) -> None:
        pass


class BarDisplay(LineDisplay):
    """Overall bar with ETA, the current notebook's cells, and the kernel's training bar."""

    def __init__(self, keys: Sequence[str], expected: list[float | None], profile: str,
                 stream: TextIO | None = None, refresh_s: float = 1.0) -> None:
        from tqdm.std import tqdm

        super().__init__(keys, expected, profile)
        self.stream = stream or sys.stderr
        self.progress_file = ProgressFile()
        self.index, self.t0 = 0, time.perf_counter()
        self.overall = tqdm(
            total=len(self.keys), position=0, file=self.stream, dynamic_ncols=True,
            desc=f"book ({profile})",
            bar_format="{desc} |{bar:16}| {n_fmt}/{total_fmt} notebooks, {elapsed}{postfix}",
        )
        self.training = tqdm(total=0, position=2, file=self.stream, bar_format="{desc}",
                             leave=False, dynamic_ncols=True)
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick, args=(refresh_s,), daemon=True)
        self._ticker.start()

    def cell_progress(self) -> dict[str, Any]:
        return {"position": 1, "leave": False, "file": self.stream, "dynamic_ncols": True,
                "bar_format": "  {n_fmt}/{total_fmt} cells |{bar:16}| {elapsed} in this notebook"}

    def _tick(self, every: float) -> None:
        while not self._stop.wait(every):
            self.refresh()

    def refresh(self) -> None:
        if self.index >= len(self.keys):
            self.overall.set_postfix_str("all done", refresh=False)
        else:
            eta = remaining(self.expected, self.index, time.perf_counter() - self.t0)
            self.overall.set_postfix_str(str(eta), refresh=False)
        line = self.progress_file.latest() if self.progress_file else None
        self.training.set_description_str(f"  {line}" if line else "", refresh=False)
        self.overall.refresh()
        self.training.refresh()

    def start(self, index: int, key: str) -> None:
        self.index, self.t0 = index, time.perf_counter()
        self.overall.set_description_str(f"[{index + 1}/{len(self.keys)}] {key}", refresh=False)
        self.refresh()

    def finish(self, index: int, status: str, wall_s: float) -> None:
        note = (f"done in {wall_s:.1f} s" if status == "ran"
                else f"unchanged since last run ({wall_s:.1f} s then): skipped")
        self.overall.write(f"{self.keys[index]}: {note}", file=self.stream)
        self.expected[index] = 0.0
        self.index = index + 1
        self.overall.update(1)
        self.refresh()

    def close(self) -> None:
        self._stop.set()
        self._ticker.join(timeout=5)
        self.training.close()
        self.overall.close()
        if self.progress_file is not None:
            self.progress_file.close()


def make_display(mode: str, keys: Sequence[str], expected: list[float | None], profile: str,
                 log: Callable[[str], Any] = print) -> LineDisplay:
    """``bars`` on a terminal, ``lines`` otherwise (``auto``), or the mode named."""
    if mode not in ("auto", "bars", "lines"):
        raise ValueError(f"unknown display {mode!r}; valid: auto, bars, lines")
    if mode == "auto":
        mode = "bars" if sys.stderr.isatty() else "lines"
    if mode == "bars":
        return BarDisplay(keys, expected, profile)
    return LineDisplay(keys, expected, profile, log)
