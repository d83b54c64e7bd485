"""Snake activation with a learnable frequency per channel (Ziyin et al. 2020).

TimeVQVAE's December-2024 encoders/decoders and the NM-VQTSG U-Net mapper use it instead of
(Leaky)ReLU (spec ``papers/nmvqtsg.md`` section 2.1): ``s(x) = x + sin^2(a x) / a`` with one
``a`` per channel drawn from ``U(0.2, 0.5)`` at construction.
"""

from __future__ import annotations

import torch
from torch import nn


class Snake(nn.Module):
    """``x + sin^2(a x) / a`` with a learnable ``a`` per channel (channel axis 1).

    Parameters
    ----------
    channels
        Number of channels (size of axis 1 of the input).
    a_range
        Interval of the uniform initialisation of ``a`` (paper code: ``(0.2, 0.5)``).
    """

    def __init__(self, channels: int, a_range: tuple[float, float] = (0.2, 0.5)) -> None:
        super().__init__()
        lo, hi = a_range
        self.a = nn.Parameter(torch.empty(channels).uniform_(lo, hi))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        a = self.a.view(1, -1, *([1] * (x.dim() - 2)))
        return x + torch.sin(a * x).pow(2) / a
