"""Random token masking for masked time-series modelling (TimeMAE / CBD, spec section 2.1).

A mask marks ``floor(ratio * T)`` of ``T`` token positions as hidden (at least one token stays
visible). TimeMAE draws one permutation per mini-batch (``shared=True``); the MAE convention,
our default, draws one per sample.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class TokenMask:
    """Indices of visible and masked tokens, each sorted, shape ``(n, T_vis)`` / ``(n, T_mask)``.

    ``masked`` is the boolean ``(n, T)`` view (``True`` = hidden).
    """

    visible: torch.Tensor
    hidden: torch.Tensor
    masked: torch.Tensor


def n_masked(n_tokens: int, ratio: float) -> int:
    """``floor(ratio * T)``, capped so that at least one token is visible."""
    if not 0.0 <= ratio < 1.0:
        raise ValueError(f"mask ratio must be in [0, 1), got {ratio}")
    if n_tokens < 1:
        raise ValueError(f"need at least one token, got {n_tokens}")
    return min(int(ratio * n_tokens + 1e-9), n_tokens - 1)


def random_token_mask(n: int, n_tokens: int, ratio: float, *,
                      generator: torch.Generator | None = None, shared: bool = False,
                      device: torch.device | str | None = None) -> TokenMask:
    """Draw a mask for ``n`` samples of ``n_tokens`` tokens.

    Parameters
    ----------
    n, n_tokens
        Batch size and token count ``T``.
    ratio
        Fraction of tokens hidden (CBD: 0.75, paper Table 6).
    generator
        Seeded torch generator (CPU) for reproducible masks.
    shared
        Same positions for the whole batch (TimeMAE) instead of one draw per sample.
    """
    k = n_masked(n_tokens, ratio)
    rows = 1 if shared else n
    scores = torch.rand(rows, n_tokens, generator=generator)
    order = scores.argsort(dim=1)
    hidden = order[:, :k].sort(dim=1).values
    visible = order[:, k:].sort(dim=1).values
    if shared:
        hidden, visible = hidden.expand(n, -1), visible.expand(n, -1)
    masked = torch.zeros(n, n_tokens, dtype=torch.bool)
    masked.scatter_(1, hidden, True)
    dev = torch.device(device) if device is not None else torch.device("cpu")
    return TokenMask(visible.contiguous().to(dev), hidden.contiguous().to(dev), masked.to(dev))


def gather_tokens(tokens: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``tokens[i, index[i]]`` for ``tokens (n, T, D)`` and ``index (n, k)`` -> ``(n, k, D)``."""
    return tokens.gather(1, index.unsqueeze(-1).expand(-1, -1, tokens.shape[-1]))


def scatter_tokens(visible: torch.Tensor, index: torch.Tensor, n_tokens: int,
                   fill: torch.Tensor) -> torch.Tensor:
    """Put ``visible (n, k, D)`` back at ``index`` of a ``(n, T, D)`` sequence filled with
    ``fill (D,)`` (the mask token) elsewhere."""
    n, _, d = visible.shape
    out = fill.to(visible.dtype).expand(n, n_tokens, d).clone()
    return out.scatter(1, index.unsqueeze(-1).expand(-1, -1, d), visible)


def time_mask(masked: torch.Tensor, patch: int, length: int) -> torch.Tensor:
    """Token mask ``(n, T)`` -> sample mask ``(n, length)``: every sample of a hidden patch,
    cropped to the unpadded ``length``."""
    return masked.repeat_interleave(patch, dim=1)[:, :length]
