"""Build hook: ship the book's data files inside the package.

``data/claims/`` and ``data/deviations/`` stay the one place the claims and the deviation registers
are edited. A wheel carries a copy of both, made at build time, under ``freqbook/_bookdata/``;
:func:`freqbook.results.claims.claims_dir` and :func:`freqbook.results.deviations.deviations_dir`
read the checkout's folders when there is a checkout and the shipped copy otherwise. Everything else
about the package is declared in ``pyproject.toml``.
"""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SHIPPED = ("claims", "deviations")  # folders of data/ that the notebooks read at run time
TARGET = ("freqbook", "_bookdata")


def shipped_files() -> list[tuple[Path, Path]]:
    """``(source, path inside the package tree)`` of every shipped YAML file."""
    pairs = []
    for name in SHIPPED:
        base = ROOT / "data" / name
        for src in sorted(base.rglob("*.yaml")) if base.is_dir() else []:
            pairs.append((src, Path(*TARGET, name, src.relative_to(base))))
    return pairs


class BuildPyWithBookData(build_py):
    """``build_py`` that also copies ``data/claims`` and ``data/deviations`` into the package."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads the checkout's data/ folder directly
        for src, rel in shipped_files():
            dest = Path(self.build_lib) / rel
            self.mkpath(str(dest.parent))
            self.copy_file(str(src), str(dest), preserve_mode=False)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        extra = [str(Path(self.build_lib) / rel) for _, rel in shipped_files()]
        return [*super().get_outputs(include_bytecode), *extra]


setup(cmdclass={"build_py": BuildPyWithBookData})
