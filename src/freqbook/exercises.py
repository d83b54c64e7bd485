"""Exercises at the end of each experiment page, in a form a test can execute.

An exercise is a Markdown cell tagged ``exercise``: a short task in prose ("set ω0 = 1 and look
at the histograms...") followed by a fenced block whose info string is ``params`` and whose body
is a JSON object of notebook parameters to change::

    ```params
    {"omega_0": 1.0}
    ```

The reader edits the parameters cell accordingly and reruns the page; the test suite executes
every exercise's parameter change at profile ``smoke`` (``tests/test_exercises.py``), so an
exercise can never ask for a parameter the page does not have.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

TAG = "exercise"
_BLOCK = re.compile(r"```params\s*\n(.*?)\n```", re.S)


@dataclass(frozen=True)
class Exercise:
    """One exercise: its page, its position among the page's exercises, and its parameters."""

    key: str
    number: int
    text: str
    params: dict[str, Any]


def exercises_of(path: str | Path, key: str = "") -> list[Exercise]:
    """The exercises of one notebook, in page order.

    Raises
    ------
    ValueError
        An exercise cell without a ``params`` block, or whose block is not a JSON object.
    """
    nb = nbformat.read(Path(path), as_version=4)
    out: list[Exercise] = []
    for cell in nb.cells:
        if cell.cell_type != "markdown" or TAG not in cell.metadata.get("tags", []):
            continue
        blocks = _BLOCK.findall(cell.source)
        if not blocks:
            raise ValueError(f"{key or path}: exercise cell without a ```params block")
        for block in blocks:
            try:
                params = json.loads(block)
            except json.JSONDecodeError as err:
                raise ValueError(f"{key or path}: exercise params are not JSON: {err}") from err
            if not isinstance(params, dict) or not params:
                raise ValueError(f"{key or path}: exercise params must be a non-empty object")
            out.append(Exercise(key, len(out) + 1, _BLOCK.sub("", cell.source).strip(), params))
    return out
