"""Input encodings used by the SIREN paper's baselines (official code ``modules.py``).

* :class:`PositionalEncoding` - NeRF-style ``[x, sin(2^i pi x), cos(2^i pi x)]_{i<L}`` per
  coordinate, the "ReLU P.E." baseline. SIREN's code picks ``L`` by a Nyquist rule,
  ``L = floor(log2(samples / 4))`` (see :func:`nyquist_frequencies`).
* :class:`RBFLayer` - radial basis features ``exp(-(sigma ||x - c||^2)^2)`` with trainable
  centres ``c ~ U(-1, 1)`` and widths ``sigma`` (initialised to 10), the "RBF-ReLU" baseline.
  This is the official code's ``RBFLayer`` (the squared distance is scaled by ``sigma`` and squared
  again: a quartic, not a Gaussian, fall-off), kept as is for fidelity.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def nyquist_frequencies(samples: int) -> int:
    """Number of P.E. octaves for a signal with ``samples`` per axis: ``floor(log2(samples/4))``."""
    if samples < 8:
        return 1
    return int(math.floor(math.log2(samples / 4)))


class PositionalEncoding(nn.Module):
    """``x -> [x, sin(2^i pi x), cos(2^i pi x)] for i < num_frequencies``, per coordinate.

    Parameters
    ----------
    in_features
        Number of input coordinates.
    num_frequencies
        Number of octaves ``L``.
    """

    def __init__(self, in_features: int, num_frequencies: int) -> None:
        super().__init__()
        self.in_features = in_features
        self.num_frequencies = num_frequencies
        freqs = (2.0 ** torch.arange(num_frequencies, dtype=torch.float32)) * math.pi
        self.register_buffer("freqs", freqs, persistent=False)

    @property
    def out_features(self) -> int:
        return self.in_features * (1 + 2 * self.num_frequencies)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scaled = x.unsqueeze(-1) * self.freqs  # (..., in, L)
        enc = torch.cat([torch.sin(scaled), torch.cos(scaled)], dim=-1).flatten(-2)
        return torch.cat([x, enc], dim=-1)


class RBFLayer(nn.Module):
    """RBF features ``exp(-(sigma ||x - c||^2)^2)`` with trainable centres and widths.

    Parameters
    ----------
    in_features
        Number of input coordinates.
    out_features
        Number of centres (1024 in the official code).
    sigma_init
        Initial width factor ``sigma`` (10 in the official code).
    """

    def __init__(self, in_features: int, out_features: int = 1024, sigma_init: float = 10.0):
        super().__init__()
        self.centres = nn.Parameter(torch.empty(out_features, in_features).uniform_(-1.0, 1.0))
        self.sigmas = nn.Parameter(torch.full((out_features,), float(sigma_init)))
        self.out_features = out_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # ||x - c||^2 expanded as ||x||^2 - 2 x.c + ||c||^2: one GEMM, no (N, C, D) tensor.
        sq = (
            (x * x).sum(-1, keepdim=True)
            - 2.0 * x @ self.centres.t()
            + (self.centres * self.centres).sum(-1)
        ).clamp_min(0.0)
        # exp() of arguments below -87 yields float32 denormals, which are ~100x slower on CPUs;
        # features under exp(-80) ~ 2e-35 are zero for every practical purpose.
        return torch.exp(-(sq * self.sigmas).square().clamp(max=80.0))
