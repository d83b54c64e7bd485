"""Which ``freqbook`` source files a notebook depends on, for the runner's cache key.

A notebook's cached run stays valid while the code it can execute is unchanged. That code is the
*import closure* of the notebook inside ``freqbook``: the modules its cells import, the modules
those import, and every package ``__init__`` on the way (importing ``freqbook.a.b`` runs
``freqbook/__init__.py`` and ``freqbook/a/__init__.py``). The closure is found statically with
:mod:`ast`; ``freqbook`` uses no dynamic imports, and a test keeps it that way. An edit to the CBD
models therefore no longer re-executes the SIREN chapter, while an edit to a shared layer
re-executes every chapter that imports it.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

PACKAGE = "freqbook"
# `import freqbook.x`, `from freqbook.x import y` in notebook cells (which may hold IPython magics,
# so they are scanned line by line instead of parsed).
_NOTEBOOK_IMPORT = re.compile(
    r"^[ \t]*(?:from[ \t]+(freqbook(?:\.\w+)*)[ \t]+import[ \t]+(\([^)]*\)|[\w \t,*]+)"
    r"|import[ \t]+(freqbook(?:\.\w+)*))",
    re.MULTILINE,
)


def module_file(src: Path, module: str) -> Path | None:
    """The source file of ``module`` under ``src`` (the folder holding ``freqbook/``), if any."""
    base = src.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _with_parents(module: str) -> list[str]:
    parts = module.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def _from_names(module: str, names: Iterable[str]) -> list[str]:
    """``from module import a, b``: ``module`` plus ``module.a`` / ``module.b`` (submodules)."""
    return [module, *(f"{module}.{n}" for n in names if n != "*")]


def imports_of_source(source: str, module: str, is_package: bool) -> set[str]:
    """``freqbook`` modules imported by Python ``source`` of ``module`` (relative ones resolved)."""
    return set(_imports_of_source(source, module, is_package))


@lru_cache(maxsize=4096)
def _imports_of_source(source: str, module: str, is_package: bool) -> frozenset[str]:
    # Keyed by the source text: the runner fingerprints every notebook, parsing each module once.
    found: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == PACKAGE)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*anchor, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            if target.split(".")[0] == PACKAGE:
                found.update(_from_names(target, (a.name for a in node.names)))
    return frozenset(found)


def imports_of_notebook(path: Path) -> set[str]:
    """``freqbook`` modules imported by the code cells of the notebook at ``path``."""
    cells = json.loads(path.read_text()).get("cells", [])
    source = "\n".join(
        "".join(c.get("source", [])) for c in cells if c.get("cell_type") == "code"
    )
    found: set[str] = set()
    for frm, names, plain in _NOTEBOOK_IMPORT.findall(source):
        if plain:
            found.add(plain)
        else:
            listed = names.strip("() \t\n").split(",")
            found.update(_from_names(frm, (n.split(" as ")[0].strip() for n in listed)))
    return found


def import_closure(src: Path, roots: Iterable[str]) -> list[Path]:
    """Source files of ``roots`` and of everything they import inside ``freqbook``, sorted.

    Names that are not modules (``freqbook.nn.SineLayer``) are dropped; their package is kept.
    """
    todo = [m for r in roots for m in _with_parents(r)]
    seen: dict[str, Path] = {}
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        path = module_file(src, module)
        if path is None:
            continue
        seen[module] = path
        is_pkg = path.name == "__init__.py"
        for dep in imports_of_source(path.read_text(), module, is_pkg):
            todo.extend(m for m in _with_parents(dep) if m not in seen)
    return sorted(set(seen.values()))
