"""The runner's per-notebook code fingerprint: the import closure inside ``freqbook``."""

from __future__ import annotations

import json
import re
from pathlib import Path

from freqbook.codedeps import import_closure, imports_of_notebook, imports_of_source
from freqbook.runner import code_fingerprint, discover, notebooks_dir, project_root

SRC = project_root() / "src"


def _write(root: Path, rel: str, text: str = "") -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _notebook(path: Path, *sources: str) -> Path:
    cells = [{"cell_type": "code", "source": s, "metadata": {}, "outputs": []} for s in sources]
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4,
                                "nbformat_minor": 5}))
    return path


def test_relative_and_absolute_imports_are_resolved():
    src = "from . import sine\nfrom ..data import grids\nimport freqbook.metrics\nimport numpy\n"
    found = imports_of_source(src, "freqbook.nn.mlp", is_package=False)
    assert {"freqbook.nn", "freqbook.nn.sine", "freqbook.data", "freqbook.data.grids",
            "freqbook.metrics"} <= found
    assert not any(m.startswith("numpy") for m in found)
    in_package = imports_of_source("from .sine import SineLayer\n", "freqbook.nn", is_package=True)
    assert "freqbook.nn.sine" in in_package


def test_closure_follows_imports_and_package_inits(tmp_path):
    _write(tmp_path, "freqbook/__init__.py")
    _write(tmp_path, "freqbook/a/__init__.py", "from freqbook.a.core import f\n")
    _write(tmp_path, "freqbook/a/core.py", "from freqbook.util import g\n")
    _write(tmp_path, "freqbook/util.py")
    _write(tmp_path, "freqbook/b.py", "import freqbook.util\n")
    files = {p.relative_to(tmp_path).as_posix() for p in import_closure(tmp_path, ["freqbook.a"])}
    assert files == {"freqbook/__init__.py", "freqbook/a/__init__.py", "freqbook/a/core.py",
                     "freqbook/util.py"}
    # a name imported from a module (not a submodule) is dropped, its module kept
    files = import_closure(tmp_path, ["freqbook.a.core.f"])
    assert tmp_path / "freqbook/a/core.py" in files


def test_notebook_imports_with_magics(tmp_path):
    nb = _notebook(tmp_path / "x.ipynb", '%pip install -q freqbook\nimport sys',
                   "from freqbook.results import claims_table, save_record\n"
                   "from freqbook.experiments.siren import (\n    audio,\n)\nimport freqbook.nn")
    found = imports_of_notebook(nb)
    assert {"freqbook.results", "freqbook.results.claims_table", "freqbook.nn",
            "freqbook.experiments.siren"} <= found


def test_siren_image_notebook_does_not_depend_on_other_experiments():
    files = {p.relative_to(SRC).as_posix() for p in import_closure(
        SRC, imports_of_notebook(notebooks_dir() / "siren" / "01-image-fitting.ipynb"))}
    assert "freqbook/__init__.py" in files and "freqbook/nn/sine.py" in files
    assert "freqbook/experiments/siren/image_fit.py" in files
    assert "freqbook/experiments/siren/audio.py" not in files
    assert "freqbook/runner.py" not in files


def test_every_notebook_imports_freqbook():
    for key in discover():
        path = notebooks_dir() / f"{key}.ipynb"
        assert imports_of_notebook(path), f"{key} imports nothing from freqbook"
        assert code_fingerprint(path) != code_fingerprint(), key


def test_package_has_no_dynamic_imports():
    """The static closure is only complete while freqbook imports nothing dynamically."""
    pattern = re.compile(r"import_module\(|__import__\(")
    offenders = [p for p in (SRC / "freqbook").rglob("*.py") if pattern.search(p.read_text())]
    assert offenders == []
