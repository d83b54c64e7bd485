"""Transformer blocks of the TimeMAE backbone (spec section 2.1), with attention maps exposed.

A block is post-LayerNorm with a learnable residual scale ``alpha`` (TimeMAE's
``enable_res_parameter``; ``alpha`` starts at ``res_init``, 1e-8 in TimeMAE)::

    x <- LN(x + Dropout(alpha * Attention(x)))
    x <- LN(x + Dropout(alpha * FFN(x)))        FFN = Linear(D, 4D) - GELU - Linear(4D, D)

``res_init=None`` drops the scale (a plain post-LN block). Attention is written out (not
``nn.MultiheadAttention``) so that the head-wise attention maps - the paper's "interaction
matrices" (Fig. 1a, 3) - can be returned.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class MultiHeadAttention(nn.Module):
    """Scaled dot-product self-attention with ``heads`` heads of width ``d_model / heads``."""

    def __init__(self, d_model: int, heads: int, dropout: float = 0.0) -> None:
        super().__init__()
        if d_model % heads:
            raise ValueError(f"d_model {d_model} is not divisible by heads {heads}")
        self.heads, self.d_head = heads, d_model // heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.out = nn.Linear(d_model, d_model)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``x (n, T, D)`` -> ``(output (n, T, D), attention (n, heads, T, T))``."""
        n, t, _ = x.shape
        q, k, v = self.qkv(x).view(n, t, 3, self.heads, self.d_head).permute(2, 0, 3, 1, 4)
        attn = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(self.d_head), dim=-1)
        y = (self.drop(attn) @ v).transpose(1, 2).reshape(n, t, -1)
        return self.out(y), attn


class FeedForward(nn.Sequential):
    """``Linear(D, mult*D) - GELU - Dropout - Linear(mult*D, D)``."""

    def __init__(self, d_model: int, mult: int = 4, dropout: float = 0.0) -> None:
        super().__init__(nn.Linear(d_model, mult * d_model), nn.GELU(), nn.Dropout(dropout),
                         nn.Linear(mult * d_model, d_model))


class ResidualLN(nn.Module):
    """``LN(x + Dropout(alpha * y))`` with a learnable scalar ``alpha`` (or none)."""

    def __init__(self, d_model: int, dropout: float, res_init: float | None) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(d_model)
        self.drop = nn.Dropout(dropout)
        self.alpha = None if res_init is None else nn.Parameter(torch.tensor(float(res_init)))

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:  # noqa: D102
        if self.alpha is not None:
            y = self.alpha * y
        return self.norm(x + self.drop(y))


class TransformerBlock(nn.Module):
    """One encoder / temporal-decoder layer (see the module docstring)."""

    def __init__(self, d_model: int, heads: int, dropout: float = 0.2,
                 res_init: float | None = 1e-8, ffn_mult: int = 4) -> None:
        super().__init__()
        self.attn = MultiHeadAttention(d_model, heads, dropout)
        self.ffn = FeedForward(d_model, ffn_mult, dropout)
        self.res1 = ResidualLN(d_model, dropout, res_init)
        self.res2 = ResidualLN(d_model, dropout, res_init)

    def forward(self, x: torch.Tensor, return_attn: bool = False):
        """``x (n, T, D)`` -> ``(n, T, D)``, plus the attention maps when ``return_attn``."""
        y, attn = self.attn(x)
        x = self.res1(x, y)
        x = self.res2(x, self.ffn(x))
        return (x, attn) if return_attn else x
