"""Differential operators of a network output with respect to its input, by autograd.

The SIREN paper supervises and inspects derivatives of the fitted function (Sec. 3, 4.1): the
derivative of a SIREN is again a SIREN. These helpers build graphs (``create_graph=True``) so the
results can be used in losses (Poisson, Eikonal) as well as for plots.
"""

from __future__ import annotations

import torch


def gradient(y: torch.Tensor, x: torch.Tensor, *, create_graph: bool = True) -> torch.Tensor:
    """``dy/dx`` of a scalar field ``y`` ``(N, 1)`` at points ``x`` of shape ``(N, D)``."""
    if y.shape[-1] != 1:
        raise ValueError(f"gradient needs a scalar field (N, 1), got shape {tuple(y.shape)}")
    (g,) = torch.autograd.grad(y, x, torch.ones_like(y), create_graph=create_graph)
    return g


def divergence(v: torch.Tensor, x: torch.Tensor, *, create_graph: bool = True) -> torch.Tensor:
    """``sum_i d v_i / d x_i`` for a vector field ``v`` of shape ``(N, D)``; returns ``(N, 1)``."""
    div = torch.zeros(v.shape[0], 1, dtype=v.dtype, device=v.device)
    dims = v.shape[-1]
    for i in range(dims):
        if not v.requires_grad:  # e.g. a constant gradient field
            break
        (gi,) = torch.autograd.grad(
            v[:, i].sum(),
            x,
            create_graph=create_graph,
            retain_graph=create_graph or i < dims - 1,
            allow_unused=True,
        )
        if gi is not None:  # a piecewise-linear network has no second-order term at all
            div = div + gi[:, i : i + 1]
    return div


def laplacian(y: torch.Tensor, x: torch.Tensor, *, create_graph: bool = True) -> torch.Tensor:
    """``sum_i d^2 y / d x_i^2`` of a scalar field; returns ``(N, 1)``."""
    return divergence(gradient(y, x, create_graph=True), x, create_graph=create_graph)
