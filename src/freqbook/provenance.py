"""Provenance of a run: git revision, library versions, device, threads.

Everything returned here is a plain ``str``/``int`` so it can be stored as a netCDF attribute
(h5netcdf rejects dicts, ``None`` and booleans; see DESIGN.md section 7).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
from functools import lru_cache
from pathlib import Path
from typing import Any


def repo_root() -> Path | None:
    """The source checkout holding this package, or ``None`` for an installed wheel."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").is_file() and (parent / "src" / "freqbook").is_dir():
            return parent
    return None


@lru_cache(maxsize=1)
def git_state() -> tuple[str, int]:
    """``(sha, dirty)`` of the checkout.

    Outside a git work tree (an installed wheel on Colab, an unpacked sdist) the revision is the
    package version, ``"freqbook-<version>"``, so a record still says which code wrote it.
    """
    root = repo_root()
    if root is None:
        return _package_revision(), 0
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return _package_revision(), 0
    return sha or _package_revision(), int(bool(status.strip()))


def _package_revision() -> str:
    import freqbook

    return f"freqbook-{freqbook.__version__}"


def device_string(device: Any = None) -> str:
    """A human-readable description of the compute device (CPU model or GPU name)."""
    import torch

    dev = torch.device(device) if device is not None else torch.device("cpu")
    if dev.type == "cuda" and torch.cuda.is_available():
        return f"cuda:{torch.cuda.get_device_name(dev)}"
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"cpu:{cpu} ({os.cpu_count()} cores)"


def versions() -> dict[str, str]:
    """Versions of the libraries that decide the numbers."""
    import numpy
    import torch

    import freqbook

    return {
        "python": platform.python_version(),
        "torch": str(torch.__version__),
        "numpy": str(numpy.__version__),
        "freqbook": str(freqbook.__version__),
    }


def config_hash(config_json: str) -> str:
    """Short sha256 of a canonical JSON config string."""
    return hashlib.sha256(config_json.encode()).hexdigest()[:16]


def to_json(obj: Any) -> str:
    """Canonical JSON (sorted keys) of a config; dataclasses and paths are converted."""
    import dataclasses

    def default(o: Any) -> Any:
        if dataclasses.is_dataclass(o) and not isinstance(o, type):
            return dataclasses.asdict(o)
        if isinstance(o, Path):
            return str(o)
        if isinstance(o, tuple):
            return list(o)
        raise TypeError(f"not JSON-serialisable: {type(o).__name__}")

    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        obj = dataclasses.asdict(obj)
    return json.dumps(obj, sort_keys=True, default=default)
