"""Every book notebook: committed clean, parameterised, and runnable at profile ``smoke``."""

from __future__ import annotations

import json

import nbformat
import pytest

from freqbook.results.claims import evaluate, load_claims
from freqbook.runner import discover, notebooks_dir, run_notebook

NOTEBOOKS = discover()


def test_there_are_notebooks():
    assert "siren/01-image-fitting" in NOTEBOOKS


@pytest.mark.parametrize("key", NOTEBOOKS)
def test_committed_without_outputs_and_with_parameters(key):
    nb = nbformat.read(notebooks_dir() / f"{key}.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), "strip outputs"
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters'"
    namespace: dict = {}
    exec(tagged[0].source, namespace)  # noqa: S102 - our own parameters cell
    assert namespace["profile"] == "cpu" and isinstance(namespace["seed"], int)


@pytest.mark.notebook
@pytest.mark.parametrize("key", NOTEBOOKS)
def test_runs_at_smoke_and_no_claim_fails(key, isolated_outputs):
    run = run_notebook(key, "smoke", force=True)
    assert run.status == "ran"
    meta = json.loads((isolated_outputs / "stage" / f"{key}.ipynb.run.json").read_text())
    chapter = key.split("/")[0]
    experiments = {p.split("/")[-1].removesuffix(".nc") for p in meta["records"]}
    ids = [c.id for c in load_claims(chapter) if c.check and c.check.experiment in experiments]
    table = evaluate(chapter, "smoke", root=isolated_outputs / "results", ids=ids)
    failed = table[table.verdict == "not reproduced"]
    assert failed.empty, failed[["id", "ours"]].to_string()


@pytest.mark.parametrize("key", NOTEBOOKS)
def test_page_opens_with_a_title(key):
    """Jupyter Book (-W) fails on a page whose first heading is not an H1; it is also the title."""
    nb = nbformat.read(notebooks_dir() / f"{key}.ipynb", as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "markdown")
    assert first.source.startswith("# "), "the first markdown cell must be the page's H1 title"
