"""Checkpoint cache of the NM-VQTSG chapter: trained stages stored once, reused by every page.

A checkpoint's key is the sha256 of its settings (JSON) and of the source files of the code that
trains it (its import closure inside ``freqbook``, found by :mod:`freqbook.codedeps`, like the
runner's notebook cache): change either and the checkpoint is rebuilt. Files are written to a
temporary name and renamed into place (atomic), and read back with
``torch.load(weights_only=True)`` (tensors, numbers, strings, lists and dicts only).

Location: ``$FREQBOOK_CHECKPOINTS`` or ``<results folder>/../checkpoints/nmvqtsg``.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

import torch


def cache_dir() -> Path:
    """Folder of the chapter's checkpoints (created on demand)."""
    env = os.environ.get("FREQBOOK_CHECKPOINTS")
    if env:
        base = Path(env).expanduser()
    else:
        from freqbook.results.record import results_root

        base = results_root().parent / "checkpoints"
    return base / "nmvqtsg"


@lru_cache(maxsize=8)
def code_hash(modules: tuple[str, ...]) -> str:
    """sha256 over the source files of ``modules`` and everything they import in ``freqbook``."""
    from freqbook.codedeps import import_closure

    src = Path(__file__).resolve().parents[3]
    h = hashlib.sha256()
    for path in import_closure(src, modules):
        h.update(path.relative_to(src).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def cache_key(kind: str, settings: dict[str, Any], modules: Iterable[str]) -> str:
    """``<kind>-<16 hex>`` from the settings (JSON, sorted keys) and the code hash."""
    blob = json.dumps(settings, sort_keys=True, default=str) + code_hash(tuple(modules))
    return f"{kind}-{hashlib.sha256(blob.encode()).hexdigest()[:16]}"


def save_atomic(obj: dict[str, Any], path: Path) -> None:
    """``torch.save`` to a temporary file in ``path``'s folder, then rename it to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def cached(kind: str, settings: dict[str, Any], modules: Iterable[str],
           build: Callable[[], dict[str, Any]]) -> tuple[dict[str, Any], bool]:
    """Load the checkpoint of ``(kind, settings, code)`` or ``build()`` and store it.

    Returns ``(checkpoint, hit)``; ``hit`` is true when it came from the cache.
    """
    path = cache_dir() / f"{cache_key(kind, settings, modules)}.pt"
    if path.exists():
        try:
            return torch.load(path, weights_only=True), True
        except (RuntimeError, OSError, EOFError):  # a corrupt file: rebuild it
            path.unlink(missing_ok=True)
    obj = build()
    save_atomic(obj, path)
    return obj, False
