"""What a notebook's prose may and may not contain.

* No hand-written deviation table: every "Deviations" section is rendered from the chapter's
  register (``data/deviations/<chapter>.yaml``) by ``deviation_table``.
* No measured-looking number typed into Markdown: a decimal number (``14.3``, ``0.0123``,
  ``25×``) in a Markdown cell must be a paper value of the chapter's claims, a setting in a cell
  tagged ``setting`` (configurations, hyper-parameters, derivations), or sit inside maths or
  code; results are formatted from the record by a code cell instead.
"""

from __future__ import annotations

import re

import nbformat
import pytest

from freqbook.results.claims import load_claims
from freqbook.runner import discover, notebooks_dir

NOTEBOOKS = discover()
#: tags that mark a Markdown cell as describing settings or the paper, not our results
ALLOWED_TAGS = {"setting", "paper", "exercise"}
_DECIMAL = re.compile(r"(?<![\w.:])(\d+\.\d+)(?![\d.]*\d)(?!\s*k?Hz)")
#: maths, code, links, references to the paper's sections/figures/equations, arXiv ids
_STRIPPED = re.compile(
    r"\$\$.*?\$\$|\$[^$\n]*\$|`[^`\n]*`|```.*?```|\(https?://[^)]*\)"
    r"|\b(?:Sec|Secs|Fig|Figs|Eq|Eqs|Table|Tab|Alg|App)\.?\s*[A-Z]?\d+(?:\.\d+)*"
    r"|arXiv:?\s*\d{4}\.\d{4,5}|\b\d{4}\.\d{5}\b",
    re.S,
)


def _paper_numbers(chapter: str) -> set[str]:
    out: set[str] = set()
    for c in load_claims(chapter):
        for v in (c.value, c.std):
            if v is not None:
                out |= {f"{v:g}", f"{v:.1f}", f"{v:.2f}", f"{v:.3f}", repr(v)}
    return out


def _cells(key: str):
    return nbformat.read(notebooks_dir() / f"{key}.ipynb", as_version=4).cells


def _deviation_heading(source: str) -> bool:
    return bool(re.search(r"^#+\s*Deviations?\b", source, re.M | re.I))


@pytest.mark.parametrize("key", NOTEBOOKS)
def test_no_hand_written_deviation_table(key: str) -> None:
    cells = _cells(key)
    for i, cell in enumerate(cells):
        if cell.cell_type != "markdown" or not _deviation_heading(cell.source):
            continue
        section = [cell]
        for nxt in cells[i + 1:]:
            if nxt.cell_type == "markdown" and re.match(r"^#{1,2}\s", nxt.source):
                break
            section.append(nxt)
        tables = [c for c in section if c.cell_type == "markdown" and re.search(
            r"^\s*\|.*\|\s*$\n^\s*\|[-:| ]+\|\s*$", c.source, re.M)]
        assert not tables, f"{key}: hand-written deviation table; use deviation_table(...)"
        assert any("deviation_table(" in c.source for c in section if c.cell_type == "code"), (
            f"{key}: the Deviations section must render the register with deviation_table()"
        )


@pytest.mark.parametrize("key", NOTEBOOKS)
def test_no_measured_number_typed_into_markdown(key: str) -> None:
    chapter = key.split("/")[0]
    paper = _paper_numbers(chapter)
    offenders = []
    for cell in _cells(key):
        if cell.cell_type != "markdown" or ALLOWED_TAGS & set(cell.metadata.get("tags", [])):
            continue
        text = _STRIPPED.sub(" ", cell.source)
        for m in _DECIMAL.finditer(text):
            if m.group(1) in paper:
                continue
            offenders.append(text[max(0, m.start() - 30):m.end() + 10].replace("\n", " "))
    assert not offenders, (
        f"{key}: measured-looking numbers typed into Markdown (compute them from the record, "
        f"or tag the cell 'setting' / 'paper'): {offenders[:6]}"
    )


def test_the_checks_catch_what_they_should() -> None:
    """The patterns themselves: a typed result is caught, maths and code are not."""
    assert _DECIMAL.search(_STRIPPED.sub(" ", "SIREN reaches 14.3 dB here"))
    assert not _DECIMAL.search(_STRIPPED.sub(" ", r"with $\omega_0 = 30.0$ and `lr=1.5`"))
    assert _deviation_heading("## Deviations from the paper")
