"""The notebook runner: cache hits and invalidation, errors naming notebook and cell."""

from __future__ import annotations

import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from freqbook import runner
from freqbook.runner import RunError, resolve, run_notebook


def _write_nb(path, body: str) -> None:
    nb = new_notebook(
        cells=[
            new_code_cell('profile = "cpu"\nseed = 0', metadata={"tags": ["parameters"]}),
            new_code_cell(body),
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}},
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


@pytest.fixture
def demo(tmp_path, monkeypatch, isolated_outputs):
    books = tmp_path / "nbs"
    monkeypatch.setenv("FREQBOOK_NOTEBOOKS", str(books))
    counter = tmp_path / "count.txt"
    _write_nb(
        books / "demo" / "01-count.ipynb",
        f"import pathlib\np = pathlib.Path({str(counter)!r})\n"
        "p.write_text(str(int(p.read_text() or 0) + 1) if p.exists() else '1')\n"
        "print(profile, seed)",
    )
    _write_nb(books / "demo" / "02-broken.ipynb", "x = 1\nraise ValueError('boom on purpose')")
    return books, counter


def _executions(counter) -> int:
    return int(counter.read_text()) if counter.exists() else 0


def test_cache_hit_and_invalidation(demo):
    books, counter = demo
    code = "fingerprint-A"
    assert run_notebook("demo/01-count", "smoke", code=code).status == "ran"
    assert run_notebook("demo/01-count", "smoke", code=code).status == "cached"
    assert _executions(counter) == 1
    # another parameter value, another profile, changed package code: each re-executes
    assert run_notebook("demo/01-count", "smoke", {"seed": 3}, code=code).status == "ran"
    assert run_notebook("demo/01-count", "cpu", {"seed": 3}, code=code).status == "ran"
    assert run_notebook("demo/01-count", "cpu", {"seed": 3}, code="fingerprint-B").status == "ran"
    assert _executions(counter) == 4
    # editing the notebook's source invalidates; outputs alone would not
    nb = nbformat.read(books / "demo" / "01-count.ipynb", as_version=4)
    nb.cells[1].source += "\nprint('edited')"
    nbformat.write(nb, books / "demo" / "01-count.ipynb")
    assert run_notebook("demo/01-count", "cpu", {"seed": 3}, code="fingerprint-B").status == "ran"
    assert _executions(counter) == 5
    out, meta = runner.staged_paths("demo/01-count")
    info = json.loads(meta.read_text())
    assert info["profile"] == "cpu" and info["parameters"]["seed"] == 3
    assert info["wall_s"] > 0 and info["git_sha"]
    executed = nbformat.read(out, as_version=4)
    assert any("cpu 3" in o.get("text", "") for c in executed.cells for o in c.get("outputs", []))


def test_failing_cell_names_notebook_and_cell_and_keeps_last_good_copy(demo):
    books, _ = demo
    with pytest.raises(RunError) as err:
        run_notebook("demo/02-broken", "smoke", code="x")
    msg = str(err.value)
    assert "demo/02-broken" in msg and "cell" in msg and "ValueError" in msg
    assert "boom on purpose" in msg and "\n" not in msg
    out, meta = runner.staged_paths("demo/02-broken")
    assert not out.exists() and not meta.exists()  # nothing pretends to have succeeded
    assert out.with_name("02-broken.failed.ipynb").exists()
    assert not list(out.parent.glob("*.partial.ipynb"))


def test_unknown_names_and_parameters_are_one_line_errors(demo):
    with pytest.raises(RunError, match=r"unknown notebook 'nope'; valid: demo/01-count"):
        resolve(["nope"])
    assert resolve(["demo"]) == ["demo/01-count", "demo/02-broken"]
    assert resolve(["01-count.ipynb"]) == ["demo/01-count"]
    with pytest.raises(RunError, match=r"unknown parameter\(s\) lr; valid: profile, seed"):
        run_notebook("demo/01-count", "smoke", {"lr": 1.0}, code="x")


def test_unknown_profile_is_rejected(demo):
    from freqbook.profiles import ProfileError

    with pytest.raises(ProfileError, match="valid profiles: smoke, cpu, paper"):
        run_notebook("demo/01-count", "fast", code="x")


def test_cli_reports_errors_in_one_line(demo, capsys):
    from freqbook.cli import main

    assert main(["run", "--profile", "turbo"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "error: unknown profile 'turbo'; valid profiles: smoke, cpu, paper"


def test_a_page_that_only_reads_records_reruns_when_they_change(demo, isolated_outputs):
    books, _ = demo
    _write_nb(books / "demo" / "99-summary.ipynb", "print('summary')")
    assert run_notebook("demo/99-summary", "smoke", code="x").status == "ran"
    assert run_notebook("demo/99-summary", "smoke", code="x").status == "cached"
    record = isolated_outputs / "results" / "smoke" / "demo" / "exp.nc"
    record.parent.mkdir(parents=True)
    record.write_bytes(b"new record")
    assert run_notebook("demo/99-summary", "smoke", code="x").status == "ran"
    assert run_notebook("demo/99-summary", "smoke", code="x").status == "cached"


def test_records_of_a_run_are_its_own_chapters_only(demo, isolated_outputs):
    """A record another chapter's run writes meanwhile is not attributed to this notebook."""
    books, _ = demo
    results = isolated_outputs / "results" / "smoke"
    _write_nb(
        books / "demo" / "03-writes.ipynb",
        "import pathlib\n"
        f"for rel in ('demo/mine.nc', 'other/theirs.nc'):\n"
        f"    p = pathlib.Path({str(results)!r}) / rel\n"
        "    p.parent.mkdir(parents=True, exist_ok=True)\n"
        "    p.write_bytes(b'record')",
    )
    assert run_notebook("demo/03-writes", "smoke", code="x").status == "ran"
    meta = json.loads(runner.staged_paths("demo/03-writes")[1].read_text())
    assert meta["records"] == ["smoke/demo/mine.nc"]
