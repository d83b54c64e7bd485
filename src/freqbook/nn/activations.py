"""Baseline activation layers of the WINNER comparison: FINER, WIRE and Gauss.

Each layer is ``activation(W x + b)`` with the initialisation its own paper (or the WINNER
code's configuration of it, ``papers/winner.md`` Sec. 2.7) uses. All parameters are real, so the
layers train with the book's ordinary Adam; WIRE's complex weights are stored as a real and an
imaginary part and combined on the fly.

* **FINER** - Z. Liu, H. Zhu, Q. Zhang, J. Fu, W. Deng, Z. Ma, Y. Guo, X. Cao, *FINER: Flexible
  spectral-bias tuning in Implicit NEural Representation by Variable-periodic Activation
  Functions*, CVPR 2024. Activation ``sin(omega_0 (|z| + 1) z)``: the local frequency grows with
  ``|z|``, so the bias spread sets the bandwidth. The scale ``|z| + 1`` is treated as a constant
  in the backward pass (official code: computed under ``no_grad``). Weights are initialised like
  SIREN's (first layer ``U(+-1/n)``, others ``U(+-sqrt(6/n)/omega_0)``); the biases keep PyTorch's
  default ``U(+-1/sqrt(n))`` unless ``first_bias_scale`` is given (FINER++ uses ``U(+-k)`` with
  ``k = 5`` on the first layer).
* **WIRE** - V. Saragadam, D. LeJeune, J. Tan, G. Balakrishnan, A. Veeraraghavan, R. G. Baraniuk,
  *WIRE: Wavelet Implicit Neural Representations*, CVPR 2023. Complex Gabor wavelet
  ``exp(i omega z - |s z|^2)`` with ``omega = 10``, ``s = 10`` (WIRE's and WINNER's defaults). The
  first layer has real weights (real input), later layers complex weights; the head is complex and
  the network outputs its real part. Initialisation: PyTorch's default ``U(+-1/sqrt(n))`` for the
  real and the imaginary part of every weight and bias (what ``nn.Linear(dtype=cfloat)`` draws).
* **Gauss** - S. Ramasinghe, S. Lucey, *Beyond Periodicity: Towards a Unifying Framework for
  Activations in Coordinate-MLPs*, ECCV 2022. Activation ``exp(-(s z)^2)`` with ``s = 30`` (the
  WINNER code's value), PyTorch's default initialisation.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from freqbook.nn.sine import siren_init_


class FinerLayer(nn.Module):
    """``sin(omega_0 (|z| + 1) z)`` with ``z = W x + b`` (FINER, CVPR 2024, Eq. 4).

    Parameters
    ----------
    in_features, out_features
        Layer sizes.
    omega_0
        Frequency factor (30 in FINER and in the WINNER code).
    is_first
        SIREN first-layer weight bound ``1/n`` instead of ``sqrt(6/n)/omega_0``.
    first_bias_scale
        If given (first layer only), biases ``U(-k, k)`` with ``k = first_bias_scale`` (FINER++:
        5); otherwise PyTorch's default bias.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        omega_0: float = 30.0,
        *,
        is_first: bool = False,
        first_bias_scale: float | None = None,
    ) -> None:
        super().__init__()
        self.omega_0 = float(omega_0)
        self.is_first = is_first
        self.linear = nn.Linear(in_features, out_features)
        siren_init_(self.linear, self.omega_0, is_first=is_first)
        if first_bias_scale is not None and is_first:
            with torch.no_grad():
                self.linear.bias.uniform_(-first_bias_scale, first_bias_scale)

    def pre_activation(self, x: torch.Tensor) -> torch.Tensor:
        """The sine's argument ``omega_0 (|z| + 1) z`` (scale detached, as in training)."""
        z = self.linear(x)
        return self.omega_0 * (z.abs().detach() + 1.0) * z

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return torch.sin(self.pre_activation(x))

    def extra_repr(self) -> str:
        return f"omega_0={self.omega_0:g}, is_first={self.is_first}"


class GaussLayer(nn.Module):
    """``exp(-(s z)^2)`` with ``z = W x + b`` (Ramasinghe & Lucey, ECCV 2022), default init.

    Parameters
    ----------
    in_features, out_features
        Layer sizes.
    scale
        Inverse width ``s`` of the Gaussian (30 in the WINNER code).
    """

    def __init__(self, in_features: int, out_features: int, scale: float = 30.0) -> None:
        super().__init__()
        self.scale = float(scale)
        self.linear = nn.Linear(in_features, out_features)

    def pre_activation(self, x: torch.Tensor) -> torch.Tensor:
        """``s z``, the argument of ``exp(-(.)^2)``."""
        return self.scale * self.linear(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return torch.exp(-self.pre_activation(x) ** 2)

    def extra_repr(self) -> str:
        return f"scale={self.scale:g}"


class ComplexLinear(nn.Module):
    """``W x + b`` with complex ``W``, ``b`` stored as real and imaginary parameters.

    Real and imaginary parts are each drawn ``U(-1/sqrt(n), 1/sqrt(n))`` (PyTorch's default for a
    complex ``nn.Linear``). Accepts a real or a complex input; returns a complex tensor.
    """

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        bound = 1.0 / math.sqrt(in_features)
        shape = (out_features, in_features)
        self.weight_re = nn.Parameter(torch.empty(shape).uniform_(-bound, bound))
        self.weight_im = nn.Parameter(torch.empty(shape).uniform_(-bound, bound))
        self.bias_re = nn.Parameter(torch.empty(out_features).uniform_(-bound, bound))
        self.bias_im = nn.Parameter(torch.empty(out_features).uniform_(-bound, bound))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        w = torch.complex(self.weight_re, self.weight_im)
        b = torch.complex(self.bias_re, self.bias_im)
        if not x.is_complex():
            x = torch.complex(x, torch.zeros_like(x))
        return x @ w.t() + b


class WireLayer(nn.Module):
    """Complex Gabor wavelet ``exp(i omega z - |s z|^2)`` (WIRE, CVPR 2023, Eq. 6).

    Parameters
    ----------
    in_features, out_features
        Layer sizes.
    omega
        Frequency of the wavelet (10).
    scale
        Inverse width ``s`` of its Gaussian envelope (10).
    is_first
        Real weights (for the real coordinates) instead of complex ones.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        omega: float = 10.0,
        scale: float = 10.0,
        *,
        is_first: bool = False,
    ) -> None:
        super().__init__()
        self.omega, self.scale, self.is_first = float(omega), float(scale), is_first
        self.linear: nn.Module = (
            nn.Linear(in_features, out_features) if is_first
            else ComplexLinear(in_features, out_features)
        )

    def pre_activation(self, x: torch.Tensor) -> torch.Tensor:
        """``z = W x + b`` (real for the first layer, complex afterwards)."""
        return self.linear(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        z = self.pre_activation(x)
        return torch.exp(1j * self.omega * z - (self.scale * z).abs() ** 2)

    def extra_repr(self) -> str:
        return f"omega={self.omega:g}, scale={self.scale:g}, is_first={self.is_first}"


class RealPart(nn.Module):
    """Complex linear head whose real part is the network output (WIRE)."""

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        self.linear = ComplexLinear(in_features, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return self.linear(x).real
