"""Book staging: status page counts, book order, landing page, injected parameters, MathJax."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml

from freqbook import book
from freqbook.results import evaluate, save_record, verdict_counts

ROOT = Path(__file__).resolve().parents[1]

TOC = {
    "format": "jb-book",
    "root": "intro",
    "parts": [
        {"caption": "TOY - a toy chapter", "chapters": [{"file": "toy/index", "sections": [
            {"file": "notebooks/toy/02-second"},  # book order is not alphabetical order
            {"file": "notebooks/toy/01-first"},
            {"file": "notebooks/toy/99-paper-vs-ours"},
        ]}]},
        {"caption": "LATER - a planned chapter", "chapters": [{"file": "later/index"}]},
        {"caption": "About", "chapters": [{"file": "status"}]},
    ],
}


def _claim(cid: str, experiment: str, test: str, args: dict, **kw) -> dict:
    return {
        "id": cid, "where": "Sec. 1", "kind": "qualitative", "statement": cid,
        "check": {"experiment": experiment, "variable": "psnr", "reduce": {"seed": "mean"},
                  "test": test, "args": args, **kw},
    }


def _notebook(title: str) -> dict:
    return {"cells": [{"cell_type": "markdown", "metadata": {}, "source": f"# {title}\n"}],
            "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


@pytest.fixture()
def toy(tmp_path, monkeypatch):
    """A chapter `toy` with three pages, claims per page, records and runner metadata."""
    nbs, stage, claims, results = (tmp_path / d for d in ("nb", "stage", "claims", "results"))
    monkeypatch.setenv("FREQBOOK_NOTEBOOKS", str(nbs))
    monkeypatch.setenv("FREQBOOK_STAGE", str(stage))
    monkeypatch.setenv("FREQBOOK_CLAIMS", str(claims))
    monkeypatch.setenv("FREQBOOK_RESULTS", str(results))
    for stem, title in (("01-first", "First page"), ("02-second", "Second page"),
                        ("99-paper-vs-ours", "Paper vs ours")):
        (nbs / "toy").mkdir(parents=True, exist_ok=True)
        (nbs / "toy" / f"{stem}.ipynb").write_text(json.dumps(_notebook(title)))
    (claims / "toy").mkdir(parents=True)
    best = {"dim": "method", "target": "siren", "margin": 1.0}
    (claims / "toy" / "01-first.yaml").write_text(yaml.safe_dump([
        _claim("a-best", "fit", "best_by_margin", best),            # clear win: reproduced
        _claim("a-close", "fit", "best_by_margin", {**best, "margin": 5.0}),  # not reproduced
        {"id": "a-none", "where": "Sec. 2", "kind": "qualitative", "statement": "no check"},
    ]))
    (claims / "toy" / "02-second.yaml").write_text(yaml.safe_dump([
        _claim("b-missing", "other", "best_by_margin", best),       # no record: not run
    ]))
    ds = xr.Dataset({"psnr": (("method", "seed"),
                              np.array([[30.0, 30.2, 30.1], [27.0, 27.1, 26.9]]))},
                    coords={"method": ["siren", "relu"], "seed": [0, 1, 2]})
    rec = save_record(ds, paper="toy", experiment="fit", profile="smoke", config={},
                      seeds=[0, 1, 2], wall_s=1.0, root=results)
    for stem, wall in (("01-first", 12.0), ("02-second", 100.0), ("99-paper-vs-ours", 3.0)):
        meta = {"profile": "smoke", "wall_s": wall, "device": "cpu (test)", "git_sha": "abc",
                "finished": "2026-01-01T00:00:00+00:00",
                "records": [str(rec)] if stem == "01-first" else []}
        (stage / "toy").mkdir(parents=True, exist_ok=True)
        (stage / "toy" / f"{stem}.ipynb.run.json").write_text(json.dumps(meta))
    return tmp_path


def _row(md: str, title: str) -> list[str]:
    line = next(ln for ln in md.splitlines() if ln.startswith(f"| [{title}]"))
    return [c.strip() for c in line.strip("|").split("|")]


def test_status_counts_match_the_pages(toy):
    md = book.status_markdown("smoke", TOC)
    page1 = verdict_counts(evaluate("toy", "smoke", ids=["a-best", "a-close", "a-none"]))
    assert page1["reproduced"] == 1 and page1["not reproduced"] == 1 and page1["no check"] == 1
    assert _row(md, "First page")[-1] == book.verdict_text(page1)
    page2 = verdict_counts(evaluate("toy", "smoke", ids=["b-missing"]))
    assert _row(md, "Second page")[-1] == book.verdict_text(page2) == "1 not run"
    # the chapter's last page counts every claim, and so does the chapter table
    whole = verdict_counts(evaluate("toy", "smoke"))
    assert _row(md, "Paper vs ours")[-1] == book.verdict_text(whole)
    table = md[md.index("## Verdicts by chapter"):]
    for verdict, n in whole.items():
        assert f"| {verdict} | {n} |" in table
    assert "| inconclusive |" in table and "| not comparable |" in table


def test_status_is_in_book_order_with_few_columns_and_one_device(toy):
    md = book.status_markdown("smoke", TOC)
    order = [md.index(t) for t in ("[Second page]", "[First page]", "[Paper vs ours]")]
    assert order == sorted(order)
    header = next(ln for ln in md.splitlines() if ln.startswith("| page"))
    assert len(header.strip("|").split("|")) <= 6
    assert md.count("cpu (test)") == 1
    assert "1.9 min" in md  # 115 s of notebook wall time in all


def test_page_claims_follow_the_page_files(toy):
    assert book.page_claim_ids("toy", "01-first") == ["a-best", "a-close", "a-none"]
    assert book.page_claim_ids("toy", "99-paper-vs-ours") is None
    assert book.page_claim_ids("toy", "03-unknown") == []


def test_chapters_from_toc_with_status(toy):
    chapters = book.toc_chapters(TOC)
    assert [c.key for c in chapters] == ["toy", "later"]
    assert chapters[0].notebooks == ["toy/02-second", "toy/01-first", "toy/99-paper-vs-ours"]
    assert [c.status for c in chapters] == ["3 pages", "planned"]
    md = book.chapters_markdown(TOC)
    assert "LATER - a planned chapter <later/index>" in md and "| planned |" in md


def test_timings_are_read_from_run_metadata(toy):
    keys = book.toc_notebooks(TOC)
    ledger = book.update_timings(keys)
    assert ledger["smoke"]["toy/02-second"]["wall_s"] == 100.0
    md = book.timings_markdown(ledger, keys)
    assert "`smoke`: 1.9 min of notebook execution on cpu (test)" in md
    assert "`cpu`: not yet measured" in md


def test_the_real_toc_lists_every_chapter_and_readme_names_them():
    toc = book.load_toc(ROOT / "book")
    keys = [c.key for c in book.toc_chapters(toc)]
    assert {"siren", "winner", "cbd"} <= set(keys)
    readme = (ROOT / "README.md").read_text().splitlines()
    for name in ("SIREN", "WINNER", "CBD", "MADS", "NM-VQTSG"):
        assert any(ln.startswith(f"| {name}") for ln in readme), name
    rows = []
    for chapter in book.toc_chapters(toc):  # README's status agrees with the toc
        name = chapter.caption.split(" - ")[0]
        row = next(i for i, ln in enumerate(readme) if ln.startswith(f"| {name} |"))
        planned = readme[row].rstrip(" |").endswith(book.PLANNED)
        assert planned == (chapter.status == book.PLANNED), readme[row]
        rows.append(row)
    assert rows == sorted(rows), "README lists the chapters in table-of-contents order"
    for page in ("status", "deviations", "figures", "references", "reproducing"):
        assert page in book._toc_files(toc)
    intro = (ROOT / "book" / "intro.md").read_text()
    assert book.CHAPTERS_MARK in intro
    assert book.TIMINGS_MARK in (ROOT / "book" / "reproducing.md").read_text()


def test_injected_parameters_are_hidden_and_shown_in_the_parameters_cell():
    nb = {"cells": [
        {"cell_type": "code", "metadata": {"tags": ["parameters"]},
         "source": 'profile = "cpu"  # smoke | cpu | paper\nseed = 0\n', "outputs": []},
        {"cell_type": "code", "metadata": {"tags": ["injected-parameters"]},
         "source": '# Parameters\nprofile = "smoke"\nseed = 0\n', "outputs": []},
    ]}
    out = book.hide_injected_parameters(nb)
    params, injected = out["cells"]
    assert "remove-cell" in injected["metadata"]["tags"]
    assert params["source"].splitlines() == [
        '# set by this build; the notebook\'s default: profile = "cpu"',
        'profile = "smoke"  # smoke | cpu | paper',
        "seed = 0",
    ]


def test_saved_figures_become_captioned_cells():
    fig = {"caption": "Two lines.", "label": "fig-toy-01-1", "alt": "Two lines against x"}
    cell = {"cell_type": "code", "metadata": {}, "source": "plot()", "outputs": [
        {"output_type": "stream", "name": "stdout", "text": "hello"},
        {"output_type": "display_data", "data": {"image/png": "xx"},
         "metadata": {"freqbook": {"figure": fig}}},
        {"output_type": "display_data", "data": {"image/png": "yy"},
         "metadata": {"freqbook": {"figure": {**fig, "label": "fig-toy-01-2"}}}},
    ]}
    out = book.caption_figures({"cells": [cell], "nbformat": 4, "nbformat_minor": 5})["cells"]
    assert [len(c["outputs"]) for c in out] == [1, 1, 1]
    assert out[0]["source"] == "plot()" and "mystnb" not in out[0]["metadata"]
    assert out[1]["metadata"]["mystnb"]["figure"] == {"caption": "Two lines.",
                                                      "name": "fig-toy-01-1"}
    assert out[2]["metadata"]["mystnb"]["image"]["alt"] == "Two lines against x"
    assert all("remove-input" in c["metadata"]["tags"] and c["source"] for c in out[1:])


def test_mathjax_is_shipped_locally(tmp_path):
    entry = book.copy_mathjax(tmp_path / "_static" / "mathjax")
    assert entry.name == "tex-mml-chtml.js" and entry.stat().st_size > 100_000
    assert any((tmp_path / "_static" / "mathjax" / "output" / "chtml" / "fonts").rglob("*.woff"))
    config = yaml.safe_load((ROOT / "book" / "_config.yml").read_text())["sphinx"]["config"]
    assert config["mathjax_path"] == "mathjax/tex-mml-chtml.js"
    assert config["html_extra_path"] == [book.EXTRA]
    assert config["nb_render_markdown_format"] == "myst"
    assert not (ROOT / "book" / "_static").exists()  # Jupyter Book would load every .js in it


def test_built_html_uses_the_local_mathjax():
    html = ROOT / "build" / "html"
    if not (html / "index.html").is_file():
        pytest.skip("the book has not been built in this checkout")
    page = (html / "intro.html").read_text()  # index.html only redirects to the root page
    assert "_static/mathjax/tex-mml-chtml.js" in page and "cdn.jsdelivr" not in page
    assert (html / "_static" / "mathjax" / "tex-mml-chtml.js").is_file()


def test_prepared_page_ends_with_how_to_cite_it():
    fig = {"caption": "c", "label": "fig-toy-01-1", "alt": "a"}
    nb = {"cells": [{"cell_type": "code", "metadata": {}, "source": "x", "outputs": [
        {"output_type": "display_data", "data": {"image/png": "xx"},
         "metadata": {"freqbook": {"figure": fig}}}]}], "nbformat": 4, "nbformat_minor": 5}
    out = book.prepare_notebook(nb, "toy/01-first", "First page", ["sitzmann2020siren"])
    cite = out["cells"][-1]
    assert cite["cell_type"] == "markdown" and "## How to cite this page" in cite["source"]
    assert "*First page*" in cite["source"] and "{cite:p}`sitzmann2020siren`" in cite["source"]
    assert "{numref}`fig-toy-01-1`" in cite["source"]


def test_exercise_parameter_blocks_read_as_python():
    nb = {"cells": [{"cell_type": "markdown", "metadata": {}, "source":
                     'Try it.\n\n```params\n{"overrides": {"s1": 0.5}, "seed": 1}\n```'}]}
    src = book.render_exercise_params(nb)["cells"][0]["source"]
    assert "```params" not in src
    assert "```python\n# set in the parameters cell, then run all cells\n" in src
    assert "overrides = {'s1': 0.5}\nseed = 1\n```" in src
