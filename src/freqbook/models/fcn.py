"""Fully convolutional network (FCN) classifier used for the Inception Score.

Wang, Yan, Oates (2017): conv blocks (Conv1d "same" -> BatchNorm -> ReLU), global average
pooling over time, linear head. NM-VQTSG's IS uses a deeper 6-block variant from the authors'
``supervised_FCN_2`` package (128-k8, 256-k5 x4, 128-k5, dropout 0.5 between blocks; spec
``papers/nmvqtsg.md`` section 2.5); the original 3 blocks are 128-k8, 256-k5, 128-k3.
Its pretrained weights are not obtainable offline, so the book trains its own.
"""

from __future__ import annotations

import torch
from torch import nn

#: (channels, kernel) per block
WANG_BLOCKS: tuple[tuple[int, int], ...] = ((128, 8), (256, 5), (128, 3))
PAPER_BLOCKS: tuple[tuple[int, int], ...] = ((128, 8), (256, 5), (256, 5), (256, 5), (256, 5),
                                              (128, 5))


class FCN(nn.Module):
    """``(B, C, L)`` -> logits ``(B, n_classes)``; :meth:`features` gives the pooled vector."""

    def __init__(self, in_channels: int, n_classes: int,
                 blocks: tuple[tuple[int, int], ...] = WANG_BLOCKS, dropout: float = 0.0) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c = in_channels
        for i, (width, k) in enumerate(blocks):
            if i and dropout > 0:
                layers.append(nn.Dropout(dropout))
            layers += [nn.Conv1d(c, width, k, padding="same"), nn.BatchNorm1d(width), nn.ReLU()]
            c = width
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(c, n_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Global-average-pooled last feature map ``(B, channels)``."""
        return self.body(x).mean(dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return self.head(self.features(x))
