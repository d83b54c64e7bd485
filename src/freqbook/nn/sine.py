"""Sine layers and the SIREN initialisation (Sitzmann et al., NeurIPS 2020, Sec. 3.2).

A sine layer computes ``y = sin(omega_0 * (W x + b))``. With ``x ~ U(-1, 1)`` entries and the
initialisation below, each pre-activation ``omega_0 (W x + b)`` is approximately N(0, 1) and each
post-activation is arcsine-distributed on (-1, 1), at every depth (paper Sec. 3.2, supplement
Sec. 1). The factor ``omega_0`` is kept outside the weights (the form of the authors' Colab,
``explore_siren.ipynb``) so that the first layer's frequency range and the hidden layers' effective
learning rate can be chosen separately.

Initialisation (official code, ``modules.sine_init`` / ``first_layer_sine_init``):

* first layer: ``W ~ U(-1/n, 1/n)`` with ``n = fan_in``;
* every other layer, the linear head included: ``W ~ U(-sqrt(6/n)/omega_0, sqrt(6/n)/omega_0)``;
* biases keep PyTorch's default ``U(-1/sqrt(n), 1/sqrt(n))`` (never re-initialised upstream).
  Because they are multiplied by ``omega_0`` too, the hidden pre-activation variance is
  ``1 + omega_0**2 / (3 n)`` rather than 1; ``bias_init="zero"`` gives the paper's bias-free case.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import nn

BiasInit = Literal["torch", "zero"]


class _FusedSineLinear(torch.autograd.Function):
    """``sin(omega * (x @ W.T + b))`` with one GEMM and no intermediate ``omega * z`` tensor.

    The scale ``omega`` is folded into the GEMM (``addmm``'s ``alpha``/``beta``), and the backward
    pass reuses the stored phase in place. It supports first-order gradients only, so
    :class:`SineLayer` uses it only when no derivative with respect to the coordinates is taken.
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, omega: float):
        phase = torch.addmm(bias, x, weight.t(), beta=omega, alpha=omega)
        ctx.save_for_backward(x, weight, phase)
        ctx.omega = omega
        return torch.sin(phase)

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):
        x, weight, phase = ctx.saved_tensors
        # d/dz sin(omega z) = omega cos(omega z); the phase buffer is not needed afterwards.
        grad_z = torch.cos_(phase).mul_(grad_out)
        omega = ctx.omega
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_x = torch.mm(grad_z, weight).mul_(omega)
        if ctx.needs_input_grad[1]:
            grad_w = torch.mm(grad_z.t(), x).mul_(omega)
        if ctx.needs_input_grad[2]:
            grad_b = grad_z.sum(0).mul_(omega)
        return grad_x, grad_w, grad_b, None


class SineLayer(nn.Module):
    """One SIREN layer ``sin(omega_0 * (W x + b))`` with the paper's initialisation.

    Parameters
    ----------
    in_features, out_features
        Layer sizes.
    omega_0
        Frequency factor (30 in the paper; 3000 for the first layer on audio).
    is_first
        First layer: ``W ~ U(-1/n, 1/n)``; otherwise ``U(+-sqrt(6/n)/omega_0)``.
    bias_init
        ``"torch"`` keeps PyTorch's default bias (official code); ``"zero"`` zeroes it.
    fused
        Use the fused forward/backward kernel when no coordinate derivatives are requested.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        omega_0: float = 30.0,
        *,
        is_first: bool = False,
        bias_init: BiasInit = "torch",
        fused: bool = True,
    ) -> None:
        super().__init__()
        self.omega_0 = float(omega_0)
        self.is_first = is_first
        self.fused = fused
        self.linear = nn.Linear(in_features, out_features)
        siren_init_(self.linear, self.omega_0, is_first=is_first, bias_init=bias_init)

    def forward(self, x: torch.Tensor, *, fused: bool | None = None) -> torch.Tensor:
        """Apply the layer; ``fused=False`` forces plain autograd ops (needed for derivatives
        of the output with respect to the input coordinates, which take a double backward)."""
        use_fused = self.fused if fused is None else (fused and self.fused)
        if use_fused and x.dim() == 2:
            return _FusedSineLinear.apply(x, self.linear.weight, self.linear.bias, self.omega_0)
        return torch.sin(self.omega_0 * self.linear(x))

    def pre_activation(self, x: torch.Tensor) -> torch.Tensor:
        """The argument of the sine, ``omega_0 (W x + b)`` (for activation statistics)."""
        return self.omega_0 * self.linear(x)

    def extra_repr(self) -> str:
        return f"omega_0={self.omega_0:g}, is_first={self.is_first}"


@torch.no_grad()
def siren_init_(
    linear: nn.Linear,
    omega_0: float,
    *,
    is_first: bool = False,
    bias_init: BiasInit = "torch",
) -> nn.Linear:
    """Initialise ``linear`` in place as in the official SIREN code (see module docstring)."""
    fan_in = linear.in_features
    bound = 1.0 / fan_in if is_first else math.sqrt(6.0 / fan_in) / omega_0
    linear.weight.uniform_(-bound, bound)
    if linear.bias is not None:
        if bias_init == "zero":
            linear.bias.zero_()
        elif bias_init == "torch":
            b = 1.0 / math.sqrt(fan_in)
            linear.bias.uniform_(-b, b)
        else:
            raise ValueError(f"unknown bias_init {bias_init!r}; valid: torch, zero")
    return linear


def arcsine_pdf(y: torch.Tensor | float) -> torch.Tensor:
    """Density of the arcsine distribution on (-1, 1): ``1 / (pi sqrt(1 - y^2))``."""
    y = torch.as_tensor(y, dtype=torch.float64)
    return 1.0 / (math.pi * torch.sqrt(1.0 - y**2))
