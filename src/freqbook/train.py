"""One small, seeded, device-agnostic training loop for full-batch signal fitting.

Every chapter's fitting experiments go through :func:`fit`: Adam on a loss closure, a tqdm progress
bar, a history of the loss (and any extra per-step metric), and a guard that stops with a
one-line error when the loss becomes NaN/inf instead of silently plotting garbage.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import torch
from tqdm.auto import tqdm


class DivergenceError(RuntimeError):
    """The loss became NaN or infinite."""


@lru_cache(maxsize=4)
def _progress_sink(path: str):
    return open(path, "a", buffering=1, encoding="utf-8")  # stays open while the kernel runs


def progress_bar(iterable, *, desc: str, progress: bool | None = None, **kw):
    """A tqdm bar over ``iterable`` for a training loop.

    In a notebook or script the bar shows unless ``progress=False`` or ``FREQBOOK_PROGRESS=0``.
    When the book runner executes a notebook it sets ``FREQBOOK_PROGRESS_FILE``: the bar is then
    written as plain text to that file, which ``make book`` shows on the terminal, and nothing is
    added to the notebook's outputs.
    """
    sink = os.environ.get("FREQBOOK_PROGRESS_FILE")
    if sink and progress is not False:
        try:
            from tqdm.std import tqdm as text_tqdm

            return text_tqdm(iterable, desc=desc, file=_progress_sink(sink), leave=False,
                             mininterval=1.0, ncols=100, **kw)
        except OSError:
            pass
    if progress is None:
        progress = os.environ.get("FREQBOOK_PROGRESS", "1") != "0"
    return tqdm(iterable, desc=desc, disable=not progress, leave=False, mininterval=1.0, **kw)


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch; returns a torch generator seeded the same way."""
    random.seed(seed)
    np.random.seed(seed % (2**32))  # noqa: NPY002 - legacy global state used by libraries
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def set_threads(n: int | None = None) -> int:
    """Set torch's intra-op threads (default: ``FREQBOOK_THREADS`` or all cores); returns it."""
    if n is None:
        n = int(os.environ.get("FREQBOOK_THREADS", "0")) or (os.cpu_count() or 1)
    torch.set_num_threads(n)
    return n


def default_device() -> torch.device:
    """``FREQBOOK_DEVICE`` if set, else the first CUDA GPU when there is one, else the CPU."""
    name = os.environ.get("FREQBOOK_DEVICE")
    if name:
        return torch.device(name)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def make_adam(params, lr: float) -> torch.optim.Optimizer:
    """Adam with the fastest available implementation (fused on CPU/GPU when torch has it)."""
    params = list(params)
    try:
        return torch.optim.Adam(params, lr=lr, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.Adam(params, lr=lr, foreach=True)


@dataclass
class History:
    """Per-step records of a fit: ``loss`` plus any metrics returned by the step closure."""

    loss: list[float] = field(default_factory=list)
    metrics: dict[str, list[float]] = field(default_factory=dict)
    wall_s: float = 0.0

    def append(self, loss: float, extra: dict[str, float]) -> None:
        self.loss.append(loss)
        for k, v in extra.items():
            self.metrics.setdefault(k, []).append(v)


StepFn = Callable[[], tuple[torch.Tensor, dict[str, float]]]


def fit(
    params,
    step_fn: StepFn,
    steps: int,
    lr: float,
    *,
    desc: str = "fit",
    progress: bool | None = None,
    optimizer: torch.optim.Optimizer | None = None,
) -> History:
    """Run ``steps`` optimiser steps of ``step_fn`` (which returns ``(loss, metrics)``).

    Parameters
    ----------
    params
        Parameters to optimise (ignored when ``optimizer`` is given).
    step_fn
        Closure computing the loss on the full batch and a dict of float metrics measured on the
        same forward pass (i.e. *before* the update of this step).
    steps, lr
        Number of Adam steps and learning rate.
    desc
        Progress-bar label.
    progress
        Show a tqdm bar (default: unless ``FREQBOOK_PROGRESS=0``; see :func:`progress_bar`).

    Raises
    ------
    DivergenceError
        If the loss is NaN or infinite at some step.
    """
    import time

    opt = optimizer or make_adam(params, lr)
    hist = History()
    start = time.perf_counter()
    bar = progress_bar(range(steps), desc=desc, progress=progress)
    for step in bar:
        opt.zero_grad(set_to_none=True)
        loss, extra = step_fn()
        value = float(loss.detach())
        if not np.isfinite(value):
            bar.close()
            raise DivergenceError(
                f"{desc}: loss became {value} at step {step}; lower the learning rate or check "
                "the data scaling"
            )
        loss.backward()
        opt.step()
        hist.append(value, extra)
        if not bar.disable and step % 50 == 0:
            bar.set_postfix(loss=f"{value:.3g}")
    hist.wall_s = time.perf_counter() - start
    return hist
