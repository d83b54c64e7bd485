"""TimeMAE-style masked encoder (Cheng et al., arXiv:2303.00320), the backbone CBD builds on.

Spec section 2.1: zero-pad the series to a multiple of the patch length ``P``; tokenise with
``Conv1d(C -> D, kernel = stride = P)``; add a learnable positional table ``(T, D)``; mask
``floor(r T)`` tokens *after* the tokeniser; run the encoder on the **visible** tokens only;
scatter them back with a learnable mask token (``randn(D)``) and the positional table to form the
decoder input ``Z (n, T, D)``. Downstream (linear probe, fine-tuning) the encoder sees every
token and its output is mean-pooled over tokens.

Departure (registered in ``data/deviations/cbd.yaml``): the positional table is added to *every*
decoder input token, so a visible token carries it twice (once before the encoder, once after);
TimeMAE's code adds it once to the visible tokens and once to the mask tokens only
(``model/TimeMAE.py``, ``pretrain_forward``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from freqbook.data.masking import TokenMask, gather_tokens, scatter_tokens
from freqbook.nn.transformer import TransformerBlock


def n_tokens(length: int, patch: int) -> int:
    """``T = ceil(L / P)``."""
    return math.ceil(length / patch)


def pad_series(x: torch.Tensor, patch: int) -> torch.Tensor:
    """Zero-pad ``x (n, C, L)`` at the end to a multiple of ``patch``."""
    extra = (-x.shape[-1]) % patch
    return F.pad(x, (0, extra)) if extra else x


class MaskedEncoder(nn.Module):
    """Tokeniser, positional table, mask token and ``layers`` transformer blocks."""

    def __init__(self, in_channels: int, length: int, patch: int = 8, d_model: int = 128,
                 heads: int = 4, layers: int = 8, dropout: float = 0.2,
                 res_init: float | None = 1e-8) -> None:
        super().__init__()
        self.in_channels, self.length, self.patch = int(in_channels), int(length), int(patch)
        self.n_tokens = n_tokens(length, patch)
        self.tokenizer = nn.Conv1d(in_channels, d_model, kernel_size=patch, stride=patch)
        self.pos = nn.Parameter(torch.randn(self.n_tokens, d_model) * 0.02)
        self.mask_token = nn.Parameter(torch.randn(d_model))
        self.blocks = nn.ModuleList(TransformerBlock(d_model, heads, dropout, res_init)
                                    for _ in range(layers))

    def tokens(self, x: torch.Tensor) -> torch.Tensor:
        """``x (n, C, L)`` -> tokens ``(n, T, D)`` with positions added."""
        if x.ndim != 3 or x.shape[1] != self.in_channels or x.shape[2] != self.length:
            raise ValueError(f"expected input (n, {self.in_channels}, {self.length}), "
                             f"got {tuple(x.shape)}")
        return self.tokenizer(pad_series(x, self.patch)).transpose(1, 2) + self.pos

    def run_blocks(self, h: torch.Tensor, return_attn: bool = False):
        """The transformer stack; with ``return_attn`` also the list of attention maps."""
        maps = []
        for block in self.blocks:
            if return_attn:
                h, attn = block(h, return_attn=True)
                maps.append(attn)
            else:
                h = block(h)
        return (h, maps) if return_attn else h

    def forward(self, x: torch.Tensor, return_attn: bool = False):
        """Unmasked encoding ``(n, T, D)`` (downstream use)."""
        return self.run_blocks(self.tokens(x), return_attn)

    def encode_masked(self, x: torch.Tensor, mask: TokenMask) -> torch.Tensor:
        """Encode the visible tokens and return the decoder input ``Z (n, T, D)``.

        The positional table is added again to all ``T`` positions (visible ones included).
        """
        h = self.run_blocks(gather_tokens(self.tokens(x), mask.visible))
        return scatter_tokens(h, mask.visible, self.n_tokens, self.mask_token) + self.pos

    def pooled(self, x: torch.Tensor) -> torch.Tensor:
        """Mean over tokens of the unmasked encoding, ``(n, D)`` (TimeMAE's pooling)."""
        return self(x).mean(dim=1)


class PatchHead(nn.Module):
    """Linear ``D -> P*C`` per token and un-patchify to ``(n, C, L)`` (spec section 2.2, [R])."""

    def __init__(self, d_model: int, in_channels: int, patch: int, length: int) -> None:
        super().__init__()
        self.c, self.p, self.length = in_channels, patch, length
        self.proj = nn.Linear(d_model, patch * in_channels)

    def forward(self, z: torch.Tensor) -> torch.Tensor:  # noqa: D102
        n, t, _ = z.shape
        y = self.proj(z).view(n, t, self.c, self.p).permute(0, 2, 1, 3).reshape(n, self.c, -1)
        return y[..., : self.length]


class Classifier(nn.Module):
    """Encoder + mean pooling + linear head (fine-tuning, paper Eq. 15)."""

    def __init__(self, encoder: MaskedEncoder, n_classes: int) -> None:
        super().__init__()
        self.encoder = encoder
        self.head = nn.Linear(encoder.pos.shape[1], n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return self.head(self.encoder.pooled(x))
