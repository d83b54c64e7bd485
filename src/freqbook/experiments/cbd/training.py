"""Mini-batch pre-training of :class:`~freqbook.models.cbd.CBDModel` (spec section 2.5).

AdamW (paper: lr 1e-4, weight decay 3e-4, betas (0.9, 0.99)), batch 128, constant learning
rate, a fresh random mask per step, a tqdm bar and the NaN guard of :mod:`freqbook.train`.
Labels are never used. ``snapshot`` callbacks see the model after chosen epochs (interaction
matrices over training, Fig. 3).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from freqbook.models.cbd import CBDModel, LossWeights
from freqbook.train import DivergenceError, progress_bar, seed_everything


@dataclass(frozen=True)
class OptimConfig:
    """Optimiser and schedule of pre-training (and fine-tuning)."""

    lr: float = 1e-4
    weight_decay: float = 3e-4
    betas: tuple[float, float] = (0.9, 0.99)
    batch_size: int = 128
    epochs: int = 100


@dataclass
class PretrainHistory:
    """Per-epoch mean loss (total and per term) and the wall time."""

    loss: list[float] = field(default_factory=list)
    terms: dict[str, list[float]] = field(default_factory=dict)
    wall_s: float = 0.0


def make_adamw(params, opt: OptimConfig) -> torch.optim.Optimizer:
    """AdamW with the paper's settings (``foreach`` implementation)."""
    return torch.optim.AdamW(list(params), lr=opt.lr, weight_decay=opt.weight_decay,
                             betas=opt.betas, foreach=True)


def _progress(progress: bool | None) -> bool:
    return os.environ.get("FREQBOOK_PROGRESS", "1") != "0" if progress is None else progress


def pretrain(model: CBDModel, X: np.ndarray, weights: LossWeights, opt: OptimConfig, seed: int,
             *, desc: str = "pretrain", progress: bool | None = None,
             snapshot_epochs: Sequence[int] = (),
             snapshot: Callable[[int, CBDModel], None] | None = None) -> PretrainHistory:
    """Pre-train ``model`` on ``X (n, C, L)`` for ``opt.epochs`` epochs.

    Raises
    ------
    DivergenceError
        If a step's loss is NaN or infinite.
    """
    gen = seed_everything(seed)
    device = model.encoder.pos.device
    data = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32)).to(device)
    optim = make_adamw(model.parameters(), opt)
    hist = PretrainHistory()
    tic = time.perf_counter()
    bar = progress_bar(range(1, opt.epochs + 1), desc=desc, progress=progress)
    for epoch in bar:
        model.train()
        order = torch.randperm(data.shape[0], generator=gen)
        sums: dict[str, float] = {}
        total, batches = 0.0, 0
        for start in range(0, data.shape[0], opt.batch_size):
            xb = data[order[start : start + opt.batch_size].to(device)]
            out = model(xb, generator=gen)
            loss, parts = model.loss(xb, out, weights)
            value = float(loss.detach())
            if not np.isfinite(value):
                bar.close()
                raise DivergenceError(f"{desc}: loss became {value} at epoch {epoch}; lower the "
                                      "learning rate or check the data scaling")
            optim.zero_grad(set_to_none=True)
            loss.backward()
            optim.step()
            total, batches = total + value, batches + 1
            for k, v in parts.items():
                sums[k] = sums.get(k, 0.0) + v
        hist.loss.append(total / batches)
        for k, v in sums.items():
            hist.terms.setdefault(k, []).append(v / batches)
        bar.set_postfix(loss=f"{hist.loss[-1]:.3g}")
        if snapshot is not None and epoch in snapshot_epochs:
            model.eval()
            snapshot(epoch, model)
    hist.wall_s = time.perf_counter() - tic
    model.eval()
    return hist


@torch.no_grad()
def encode(model: CBDModel, X: np.ndarray, batch: int = 512) -> np.ndarray:
    """Mean-pooled encoder features ``(n, D)`` of the unmasked series (eval mode)."""
    model.eval()
    device = model.encoder.pos.device
    feats = [model.encoder.pooled(torch.from_numpy(X[i : i + batch]).to(device)).cpu()
             for i in range(0, X.shape[0], batch)]
    return torch.cat(feats).numpy().astype(np.float64)


@torch.no_grad()
def attention_maps(model: CBDModel, X: np.ndarray) -> list[np.ndarray]:
    """Head-averaged attention maps ``(n, T, T)`` of every encoder layer on ``X``."""
    model.eval()
    x = torch.from_numpy(X).to(model.encoder.pos.device)
    _, maps = model.encoder(x, return_attn=True)
    return [m.mean(dim=1).cpu().numpy() for m in maps]


@torch.no_grad()
def reconstructions(model: CBDModel, X: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    """Masked reconstructions of ``X`` (eval mode, one seeded mask) per branch, ``(n, C, L)``."""
    model.eval()
    gen = torch.Generator().manual_seed(seed)
    out = model(torch.from_numpy(X).to(model.encoder.pos.device), generator=gen)
    return {k: v.cpu().numpy() for k, v in out.items() if k != "mask"}
