"""The reader's path: the book's notebooks run from an installed wheel, outside the checkout.

Two parts.

* Fast checks that the repository URL is written in one place (``[project.urls]`` of
  ``pyproject.toml``) and that the notebooks' install cells, the book's launch buttons and
  ``CITATION.cff`` agree with it, and that a wheel ships the claims and deviation registers.
* :func:`test_notebooks_run_from_an_installed_wheel` (``slow``, run by ``make test``): the path of a
  reader on Colab or any machine with ``pip``. An sdist is built from the package's files, a wheel
  from the unpacked sdist; a fresh virtual environment is created whose only preinstalled package
  is the test run's own torch (a notebook host such as Colab preinstalls torch; we expose the CI
  torch through a ``.pth`` file rather than downloading it again); ``pip`` installs the wheel and
  resolves every other dependency from the wheel's metadata, as the notebooks' install cell does.
  One notebook per chapter is then executed by papermill at ``smoke`` from an empty temporary
  folder, and its paper-vs-ours table must render from the shipped claims.
"""

from __future__ import annotations

import importlib.metadata as md
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
import tomllib
import zipfile
from pathlib import Path

import nbformat
import pytest
import yaml

from freqbook.provenance import repo_root

ROOT = repo_root()
pytestmark = pytest.mark.skipif(ROOT is None, reason="needs the source checkout")

# One notebook per chapter (a chapter not listed here uses its first page that shows claims).
PREFERRED = {"siren": "03-audio-fitting", "winner": "01-bottleneck", "cbd": "01-method"}
INSTALL = re.compile(
    r'%pip install[^\n]*"freqbook(?:\[(?P<extras>[\w,-]+)\])? @ git\+(?P<url>[^"]+)"'
)


def repository_url() -> str:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return meta["project"]["urls"]["Repository"]


def chapter_notebooks() -> dict[str, list[Path]]:
    books = ROOT / "notebooks"
    return {
        d.name: sorted(d.glob("*.ipynb"))
        for d in sorted(books.iterdir())
        if d.is_dir() and list(d.glob("*.ipynb"))
    }


# --- one repository URL --------------------------------------------------------------------


def test_repository_url_is_a_github_repository():
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", repository_url())


@pytest.mark.parametrize(
    "path", [p for ps in chapter_notebooks().values() for p in ps],
    ids=lambda p: f"{p.parent.name}/{p.stem}",
)
def test_install_cell_installs_from_the_repository(path):
    nb = nbformat.read(path, as_version=4)
    urls = [m["url"] for c in nb.cells if c.cell_type == "code" for m in INSTALL.finditer(c.source)]
    assert urls, f"{path.name}: no Colab install cell (%pip install \"freqbook @ git+<url>\")"
    assert set(urls) == {repository_url()}, f"{path.name}: installs from {urls}"


def test_launch_buttons_open_the_notebooks_where_the_repository_keeps_them():
    """The book's Colab button opens ``<repository>/blob/<branch>/<path_to_book>/<page>.ipynb``
    (sphinx-book-theme); the staged pages are ``notebooks/<chapter>/<name>`` (freqbook.book), so
    that path must be a notebook of the repository, not one of the build's staging folder."""
    config = yaml.safe_load((ROOT / "book" / "_config.yml").read_text())
    repo = config["repository"]
    assert repo["url"] == repository_url()
    assert config["launch_buttons"].get("colab_url")
    toc = (ROOT / "book" / "_toc.yml").read_text()
    pages = sorted(set(re.findall(r"file:\s*(notebooks/[\w./-]+)", toc)))
    assert pages, "the table of contents lists no notebook pages"
    prefix = str(repo.get("path_to_book") or "").strip("/")
    for page in pages:
        in_repo = "/".join(p for p in (prefix, page.removesuffix(".ipynb") + ".ipynb") if p)
        assert (ROOT / in_repo).is_file(), f"{page}: launch button opens {in_repo}, not in the repo"


def test_citation_names_the_repository():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["repository-code"] == repository_url()
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert str(cff["version"]) == meta["project"]["version"]


def test_readme_and_book_pages_name_the_same_repository():
    assert "## Publishing the book" in (ROOT / "README.md").read_text()
    for page in [ROOT / "README.md", *sorted((ROOT / "book").rglob("*.md"))]:
        urls = set(re.findall(r"https://github\.com/[\w.-]+/[\w.-]+", page.read_text()))
        urls = {u.removesuffix(".git") for u in urls}
        assert urls <= {repository_url()}, f"{page.relative_to(ROOT)} names {urls}"


# --- the wheel -----------------------------------------------------------------------------


def _copy_package_sources(dest: Path) -> None:
    """What an sdist is built from: the packaging files, the package and the book data."""
    dest.mkdir(parents=True)
    for name in ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, dest / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    shutil.copytree(ROOT / "src", dest / "src", ignore=ignore)
    shutil.copytree(ROOT / "data", dest / "data", ignore=ignore)


def build_wheel(work: Path) -> Path:
    """sdist from a copy of the sources, then a wheel from the unpacked sdist; returns the wheel."""
    tree, dist = work / "tree", work / "dist"
    _copy_package_sources(tree)
    dist.mkdir()
    code = f"from setuptools import build_meta as b; print(b.build_sdist({str(dist)!r}))"
    sdist = subprocess.run([sys.executable, "-c", code], cwd=tree, capture_output=True,
                           text=True, check=True).stdout.strip().splitlines()[-1]
    with tarfile.open(dist / sdist) as tar:
        tar.extractall(work / "sdist", filter="data")
    (unpacked,) = (work / "sdist").iterdir()
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "-w", str(dist), str(unpacked)],
        check=True, capture_output=True, text=True,
    )
    (wheel,) = dist.glob("freqbook-*.whl")
    return wheel


def test_wheel_ships_the_claims_and_deviation_registers(tmp_path):
    wheel = build_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as zf:
        shipped = {n: zf.read(n) for n in zf.namelist() if n.startswith("freqbook/_bookdata/")}
    for name in ("claims", "deviations"):
        folder = tmp_path / "tree" / "data" / name  # data/ as copied for this build
        expected = {
            f"freqbook/_bookdata/{name}/{p.relative_to(folder).as_posix()}": p.read_bytes()
            for p in folder.rglob("*.yaml")
        } if folder.is_dir() else {}
        got = {k: v for k, v in shipped.items() if k.startswith(f"freqbook/_bookdata/{name}/")}
        assert got == expected, f"the wheel's {name} differ from data/{name}/"
    assert any("/claims/" in k for k in shipped)


# --- the reader's path ---------------------------------------------------------------------


def _expose_host_torch(site: Path) -> None:
    """Make this interpreter's torch (only it) visible to the fresh environment, as preinstalled."""
    dist = md.distribution("torch")
    base = Path(dist.locate_file(""))
    tops = {Path(str(f)).parts[0] for f in dist.files or [] if not str(f).startswith("..")}
    host = site.parent / "host-preinstalled"
    host.mkdir()
    for top in sorted(tops):
        if (base / top).exists():
            (host / top).symlink_to(base / top)
    (site / "host_preinstalled.pth").write_text(f"{host}\n")


def fresh_environment(work: Path) -> Path:
    """A virtual environment with nothing but torch; returns its python."""
    env_dir = work / "host"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True)
    python = env_dir / "bin" / "python"
    site = Path(subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True).stdout.strip())
    _expose_host_torch(site)
    return python


def reader_env(work: Path, python: Path) -> dict[str, str]:
    """The environment of a reader's shell: no checkout paths, no project venv, empty config."""
    keep = ("HOME", "LANG", "LC_ALL", "TMPDIR", "FREQBOOK_DATA", "FREQBOOK_OFFLINE",
            "FREQBOOK_CACHE", "FREQBOOK_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env["PATH"] = os.pathsep.join([str(python.parent), "/usr/local/bin", "/usr/bin", "/bin"])
    for var, sub in (("JUPYTER_DATA_DIR", "jupyter-data"), ("JUPYTER_CONFIG_DIR", "jupyter-config"),
                     ("IPYTHONDIR", "ipython"), ("MPLCONFIGDIR", "matplotlib")):
        env[var] = str(work / "config" / sub)
    env["FREQBOOK_PROGRESS"] = "0"
    return env


def pick_notebooks() -> list[Path]:
    chosen = []
    for chapter, paths in chapter_notebooks().items():
        named = [p for p in paths if p.stem == PREFERRED.get(chapter)]
        showing = [p for p in paths if not p.stem.startswith("99")
                   and "claims_table(" in p.read_text()]
        if named or showing:
            chosen.append((named or showing)[0])
    return chosen


def _outputs(nb) -> list[dict]:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]


def _texts(output: dict) -> str:
    if output.get("output_type") == "stream":
        return output.get("text", "")
    data = output.get("data", {})
    return "\n".join(str(data.get(k, "")) for k in ("text/plain", "text/markdown", "text/html"))


@pytest.mark.slow
def test_notebooks_run_from_an_installed_wheel(tmp_path):
    times: dict[str, float] = {}
    tic = time.perf_counter()
    wheel = build_wheel(tmp_path / "wheel")
    times["build wheel"] = time.perf_counter() - tic

    picked = pick_notebooks()
    assert {p.parent.name for p in picked} >= {"siren", "winner", "cbd"}
    extras = sorted({e for p in picked for e in install_extras(p)})
    tic = time.perf_counter()
    python = fresh_environment(tmp_path)
    env = reader_env(tmp_path, python)
    target = f"{wheel}[{','.join(extras)}]" if extras else str(wheel)
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", target],
        capture_output=True, text=True, env={**os.environ, **{k: env[k] for k in ("PATH",)}},
    )
    assert install.returncode == 0, install.stderr[-3000:]
    times["fresh venv + pip install"] = time.perf_counter() - tic
    where = subprocess.run(
        [str(python), "-c", "import freqbook; print(freqbook.__file__)"],
        capture_output=True, text=True, env=env, check=True, cwd=tmp_path,
    ).stdout.split()
    assert Path(where[0]).is_relative_to(tmp_path / "host"), "freqbook must come from the wheel"

    leaks: list[str] = []
    try:
        for src in picked:
            check_notebook(src, python, env, tmp_path, times, leaks)
    finally:
        report = ", ".join(f"{k} {v:.0f} s" for k, v in times.items())
        (tmp_path / "times.json").write_text(json.dumps(times))
        print(f"reader's path: {report}")
    assert not leaks, f"pages print this machine's paths (use record_label): {leaks}"


def install_extras(path: Path) -> set[str]:
    """Extras the notebook's install cell asks for (``freqbook[mads] @ git+...``)."""
    nb = nbformat.read(path, as_version=4)
    return {e.strip() for c in nb.cells if c.cell_type == "code"
            for m in INSTALL.finditer(c.source) for e in (m["extras"] or "").split(",") if e}


def check_notebook(src: Path, python: Path, env: dict[str, str], tmp_path: Path,
                   times: dict[str, float], leaks: list[str]) -> None:
    """Execute one notebook at smoke from an empty folder; its claims table must render."""
    import xarray as xr

    import freqbook

    chapter = src.parent.name
    folder = tmp_path / "reader" / chapter
    folder.mkdir(parents=True)
    shutil.copy2(src, folder / src.name)
    tic = time.perf_counter()
    run = subprocess.run(
        [str(python), "-m", "papermill", src.name, "executed.ipynb", "-p", "profile", "smoke",
         "-k", "python3", "--no-progress-bar"],
        cwd=folder, env=env, capture_output=True, text=True,
    )
    times[f"{chapter}/{src.stem}"] = time.perf_counter() - tic
    assert run.returncode == 0, f"{chapter}/{src.stem}: {run.stderr[-3000:]}"

    nb = nbformat.read(folder / "executed.ipynb", as_version=4)
    outputs = _outputs(nb)
    assert not [o for o in outputs if o.get("output_type") == "error"]
    tables = [o["data"]["text/html"] for o in outputs
              if "freqbook-claims" in o.get("data", {}).get("text/html", "")]
    assert tables, f"{chapter}/{src.stem}: no paper-vs-ours table rendered"
    assert all(t.count("<tr") >= 2 for t in tables), "a claims table without rows"
    text = "\n".join(_texts(o) for o in outputs)
    leaks.extend(f"{chapter}/{src.stem} prints {private}"
                 for private in (str(tmp_path), str(ROOT)) if private in text)

    records = sorted((folder / "freqbook-results" / "smoke" / chapter).glob("*.nc"))
    assert records, f"{chapter}/{src.stem}: no record under ./freqbook-results"
    with xr.open_dataset(records[0], engine="h5netcdf") as ds:
        assert ds.attrs["git_sha"] == f"freqbook-{freqbook.__version__}"
        assert ds.attrs["freqbook_version"] == freqbook.__version__
