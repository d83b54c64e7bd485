"""Coordinate grids (official code ``dataio.get_mgrid``): pixel centres spanning [-1, 1]."""

from __future__ import annotations

import torch


def mgrid(*sizes: int) -> torch.Tensor:
    """Flattened ``(prod(sizes), len(sizes))`` grid of ``linspace(-1, 1, n)`` per axis, ij order."""
    axes = [torch.linspace(-1.0, 1.0, n) for n in sizes]
    return torch.stack(torch.meshgrid(*axes, indexing="ij"), dim=-1).reshape(-1, len(sizes))
