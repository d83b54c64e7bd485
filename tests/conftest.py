"""Shared test setup: absolute data paths, quiet progress bars, small thread counts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

# Kernels and subprocesses run in other folders: make a relative FREQBOOK_DATA absolute.
if os.environ.get("FREQBOOK_DATA"):
    os.environ["FREQBOOK_DATA"] = str(Path(os.environ["FREQBOOK_DATA"]).resolve())
os.environ.setdefault("FREQBOOK_PROGRESS", "0")
# Two xdist workers share two cores: one intra-op thread each avoids oversubscription.
torch.set_num_threads(int(os.environ.get("FREQBOOK_THREADS", "1")))
os.environ.setdefault("FREQBOOK_THREADS", "1")


@pytest.fixture
def isolated_outputs(tmp_path, monkeypatch):
    """Send result records and executed notebooks to a temporary folder."""
    monkeypatch.setenv("FREQBOOK_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("FREQBOOK_STAGE", str(tmp_path / "stage"))
    return tmp_path
