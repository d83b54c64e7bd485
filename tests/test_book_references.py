"""One bibliography: book/references.bib feeds the references page and CITATION.cff."""

from __future__ import annotations

from pathlib import Path

import yaml

from freqbook import book

ROOT = Path(__file__).resolve().parents[1]
ROLES = {"paper", "compared", "data"}


def test_bib_entries_name_their_chapters_and_roles():
    bib = book.read_bib(ROOT / "book" / "references.bib")
    chapters = {"siren", "winner", "cbd", "mads", "nmvqtsg"}
    for key, entry in bib.entries.items():
        assert entry.fields.get("role") in ROLES, key
        named = {c.strip() for c in entry.fields.get("chapter", "").split(",")}
        assert named and named <= chapters, key
        assert {c.strip() for c in entry.fields.get("compared", "").split(",") if c.strip()} \
            <= chapters, key
        assert entry.fields.get("title") and entry.fields.get("year"), key
    for chapter in chapters:  # each chapter cites exactly one paper it reproduces
        assert len(book.chapter_papers(bib, chapter, "paper")) == 1, chapter


def test_citation_cff_references_are_generated_from_the_bib():
    bib = book.read_bib(ROOT / "book" / "references.bib")
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["references"] == book.cff_references(bib), (
        "CITATION.cff is out of date: run python -c 'from freqbook.book import "
        "write_cff_references as w; w()'"
    )
    titles = [r["title"] for r in cff["references"]]
    assert len(titles) == len(set(titles)) == len(bib.entries)


def test_cff_reference_decodes_latex(tmp_path):
    bib_file = tmp_path / "x.bib"
    bib_file.write_text(
        "@article{k, author = {C{\\^o}t{\\'e}, David and {Some Group}}, title = {{SAITS}: X},"
        " journal = {J}, volume = {219}, pages = {10--20}, year = {2023},"
        " eprint = {2202.08516}, archiveprefix = {arXiv}, chapter = {mads}, role = {compared}}"
    )
    ref = book.cff_reference(book.read_bib(bib_file).entries["k"])
    assert ref["authors"] == [{"family-names": "Côté", "given-names": "David"},
                              {"name": "Some Group"}]
    assert ref["title"] == "SAITS: X" and ref["volume"] == 219
    assert (ref["start"], ref["end"]) == (10, 20)
    assert ref["identifiers"] == [{"type": "other", "value": "arXiv:2202.08516"}]


def test_chapter_pages_cite_their_works():
    bib = book.read_bib(ROOT / "book" / "references.bib")
    md = book.chapter_references_markdown(bib, "siren")
    assert "{cite:t}`sitzmann2020siren`" in md and "{cite:t}`mildenhall2020nerf`" in md
    assert "sitzmann2020siren" in book.chapter_papers(bib, "winner", "compared")
    page = (ROOT / "book" / "references.md").read_text()
    assert "```{bibliography}" in page
    config = yaml.safe_load((ROOT / "book" / "_config.yml").read_text())
    assert config["bibtex_bibfiles"] == ["references.bib"]
