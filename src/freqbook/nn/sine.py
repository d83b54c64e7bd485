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
import threading
from typing import Literal

import torch
from torch import nn
from torch.autograd.function import once_differentiable

BiasInit = Literal["torch", "zero"]


class _PhaseBufferPool:
    """Recycles the ``(N, out)`` phase buffers of fused sine layers from one backward to the next
    forward (CPU only; CUDA has its own caching allocator).

    The fused backward ends with its phase buffer holding ``cos(phase) * grad_out``, which nothing
    else refers to, so it is parked here and a later forward of the same shape writes its GEMM into
    it instead of allocating. Above glibc's mmap threshold (32 MiB, e.g. 256 x 256 coordinates at
    width 256) every fresh buffer is a fresh ``mmap`` whose page faults cost ~15 % of a training
    step. The pool keeps at most ``max_bytes`` (oldest dropped first); :func:`clear_phase_buffers`
    empties it.
    """

    def __init__(self, max_bytes: int = 512 * 2**20, min_bytes: int = 2**20) -> None:
        self.max_bytes = max_bytes
        self.min_bytes = min_bytes
        self._free: list[torch.Tensor] = []
        self._lock = threading.Lock()

    def take(self, shape: tuple[int, int], like: torch.Tensor) -> torch.Tensor:
        with self._lock:
            for i, buf in enumerate(self._free):
                if buf.shape == shape and buf.dtype == like.dtype and buf.device == like.device:
                    return self._free.pop(i)
        return torch.empty(shape, dtype=like.dtype, device=like.device)

    def give(self, buf: torch.Tensor) -> None:
        nbytes = buf.numel() * buf.element_size()
        if buf.device.type != "cpu" or not self.min_bytes <= nbytes <= self.max_bytes:
            return
        with self._lock:
            self._free.append(buf)
            total = sum(b.numel() * b.element_size() for b in self._free)
            while total > self.max_bytes:
                dropped = self._free.pop(0)
                total -= dropped.numel() * dropped.element_size()

    def clear(self) -> None:
        with self._lock:
            self._free.clear()


_PHASE_POOL = _PhaseBufferPool()


def clear_phase_buffers() -> None:
    """Free the phase buffers that fused sine layers keep for reuse between training steps."""
    _PHASE_POOL.clear()


def _block_rows(t: torch.Tensor, block_bytes: int = 2 * 2**20) -> int:
    """Rows per block so that one ``(rows, t.shape[1])`` block is about ``block_bytes`` (CPU)."""
    n = t.shape[0]
    if t.device.type != "cpu":
        return max(n, 1)
    return max(256, block_bytes // max(1, t.shape[1] * t.element_size()))


class _FusedSineLinear(torch.autograd.Function):
    """``sin(omega * (x @ W.T + b))`` as one GEMM plus one sine, with a hand-written backward.

    Speed notes (single-thread CPU, measured with ``benchmarks/siren_fit.py``):

    * ``omega`` multiplies the small parameters (``omega W``, ``omega b``) rather than the
      ``(N, out)`` activations, so the forward is a plain ``addmm`` and
      ``grad_x = grad_z @ (omega W)`` needs no extra pass over an ``(N, in)`` tensor;
    * the saved phase buffer becomes ``grad_z = cos(phase) * grad_out`` in place, and is then
      recycled for the next forward through a :class:`_PhaseBufferPool`;
    * the backward runs in row blocks of ~2 MiB, so each block of ``grad_z`` is still in cache
      when the three GEMM/reduction consumers read it (~5 % of a 128 x 128 step);
    * ``grad_W`` is accumulated as ``x.T @ grad_z`` and transposed once: for the first layer
      (``x`` of shape ``(N, 2)``) MKL runs this orientation 5-7x faster than ``grad_z.T @ x``.

    Mathematically this is ``sin(omega * linear(x))`` with its exact gradients; only the float
    rounding differs. First-order gradients only (``once_differentiable``), so
    :class:`SineLayer` uses it only when no derivative with respect to the input is taken.
    """

    @staticmethod
    def forward(
        ctx,
        x: torch.Tensor,
        weight: torch.Tensor,
        bias: torch.Tensor | None,
        omega: float,
    ) -> torch.Tensor:
        w_scaled = weight * omega
        phase = _PHASE_POOL.take((x.shape[0], weight.shape[0]), x)
        if bias is None:
            torch.mm(x, w_scaled.t(), out=phase)
        else:
            torch.addmm(bias * omega, x, w_scaled.t(), out=phase)
        ctx.save_for_backward(x, w_scaled, phase)
        ctx.omega = omega
        return torch.sin(phase)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out: torch.Tensor):
        if getattr(ctx, "consumed", False):
            # The phase buffer was overwritten and recycled by the first backward.
            raise RuntimeError(
                "fused sine layer: backward called twice on one graph (retain_graph=True); "
                "build the model with fused=False for that"
            )
        ctx.consumed = True
        x, w_scaled, phase = ctx.saved_tensors
        omega = ctx.omega
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        n, n_out = phase.shape
        grad_x = torch.empty_like(x, memory_format=torch.contiguous_format) if need_x else None
        grad_wt = phase.new_zeros(x.shape[1], n_out) if need_w else None  # W.T layout
        grad_b = phase.new_zeros(n_out) if need_b else None
        # Row blocks keep grad_z in cache between its producer and its three consumers.
        step = _block_rows(phase)
        for i in range(0, n, step):
            rows = slice(i, i + step)
            # d sin(phase) / d phase = cos(phase); the phase buffer is not needed afterwards.
            grad_z = torch.cos_(phase[rows]).mul_(grad_out[rows])
            if need_x:
                torch.mm(grad_z, w_scaled, out=grad_x[rows])
            if need_w:
                grad_wt.addmm_(x[rows].t(), grad_z)
            if need_b:
                grad_b.add_(grad_z.sum(0))
        grad_w = grad_wt.mul_(omega).t().contiguous() if need_w else None
        if need_b:
            grad_b.mul_(omega)
        _PHASE_POOL.give(phase)
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
            weight, bias = self.linear.weight, self.linear.bias
            needs_graph = torch.is_grad_enabled() and (
                x.requires_grad or weight.requires_grad or (bias is not None and bias.requires_grad)
            )
            if needs_graph:
                return _FusedSineLinear.apply(x, weight, bias, self.omega_0)
            # Inference: no phase to keep, so the sine overwrites it (one allocation, not two).
            w_scaled = weight * self.omega_0
            if bias is None:
                return torch.mm(x, w_scaled.t()).sin_()
            return torch.addmm(bias * self.omega_0, x, w_scaled.t()).sin_()
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
