"""NM-VQTSG stage 3: the neural mapper, a 1-D U-Net with Snake activations and attention.

Spec ``papers/nmvqtsg.md`` section 2.4 (official code ``generators/neural_mapper.py ::
Unet1D`` at commit 6e04f69, adapted there from *denoising-diffusion-pytorch*), written here
from that description, without the unused time-embedding layers:

* ``Block`` = weight-standardised Conv1d k3 -> GroupNorm -> Snake -> Dropout; a ``ResnetBlock``
  is two blocks plus a 1x1 skip when the channel count changes;
* down levels: Res -> save, Res -> linear attention -> save, strided conv down (not at the last
  level); middle: Res -> full softmax attention -> Res; up levels concatenate the saved maps
  (linearly resized to the current length), then an up-sampling (nearest x2 + conv);
* the output is linearly resized to the input length, concatenated with the first feature map
  and projected to ``C`` channels (k1 then two replicate-padded k3 convolutions).

The mapper is trained with an L1 loss on pairs ``(SVQ reconstruction, real series)``; see
:mod:`freqbook.experiments.nmvqtsg.pipeline`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from freqbook.nn.snake import Snake


@dataclass(frozen=True)
class MapperConfig:
    """U-Net hyper-parameters (section 3.2).

    ``dim 8, dim_mults (1, 2, 4, 8)``, groups 4, dropout 0.5.
    """

    in_channels: int = 1
    dim: int = 8
    dim_mults: tuple[int, ...] = (1, 2, 4, 8)
    groups: int = 4
    dropout: float = 0.5
    heads: int = 4
    dim_head: int = 32


class WSConv1d(nn.Conv1d):
    """Conv1d with weight standardisation (zero mean, unit variance per output filter)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        w = self.weight
        mean = w.mean(dim=(1, 2), keepdim=True)
        var = w.var(dim=(1, 2), keepdim=True, unbiased=False)
        return F.conv1d(x, (w - mean) * torch.rsqrt(var + 1e-5), self.bias, self.stride,
                        self.padding, self.dilation, self.groups)


class Block(nn.Module):
    """WS-conv k3 -> GroupNorm -> Snake -> Dropout."""

    def __init__(self, c_in: int, c_out: int, groups: int, dropout: float) -> None:
        super().__init__()
        self.net = nn.Sequential(WSConv1d(c_in, c_out, 3, padding=1), nn.GroupNorm(groups, c_out),
                                 Snake(c_out), nn.Dropout(dropout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return self.net(x)


class ResnetBlock(nn.Module):
    """Two :class:`Block` s plus a (1x1) skip."""

    def __init__(self, c_in: int, c_out: int, groups: int, dropout: float) -> None:
        super().__init__()
        self.b1 = Block(c_in, c_out, groups, dropout)
        self.b2 = Block(c_out, c_out, groups, dropout)
        self.skip = nn.Conv1d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return self.b2(self.b1(x)) + self.skip(x)


class ChannelNorm(nn.Module):
    """LayerNorm over the channel axis of ``(B, C, L)`` with a learned gain."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.g = nn.Parameter(torch.ones(1, dim, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        var = x.var(dim=1, keepdim=True, unbiased=False)
        return (x - x.mean(dim=1, keepdim=True)) * torch.rsqrt(var + 1e-5) * self.g


class Attention1d(nn.Module):
    """Multi-head attention over time on ``(B, C, L)``; ``linear=True``: the linear variant.

    Linear attention: softmax of q over features, of k over time, ``context = k^T v``, output
    conv + channel norm. Full attention: scaled dot-product softmax attention.
    """

    def __init__(self, dim: int, heads: int, dim_head: int, linear: bool) -> None:
        super().__init__()
        inner = heads * dim_head
        self.heads, self.dim_head, self.linear = heads, dim_head, linear
        self.norm = ChannelNorm(dim)
        self.qkv = nn.Conv1d(dim, 3 * inner, 1, bias=False)
        self.out = (nn.Sequential(nn.Conv1d(inner, dim, 1), ChannelNorm(dim)) if linear
                    else nn.Conv1d(inner, dim, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        b, _, n = x.shape
        q, k, v = (t.reshape(b, self.heads, self.dim_head, n)
                   for t in self.qkv(self.norm(x)).chunk(3, dim=1))
        if self.linear:
            q = q.softmax(dim=-2) * self.dim_head ** -0.5
            k = k.softmax(dim=-1)
            context = torch.einsum("bhdn,bhen->bhde", k, v)
            out = torch.einsum("bhde,bhdn->bhen", context, q)
        else:
            out = F.scaled_dot_product_attention(q.transpose(-1, -2), k.transpose(-1, -2),
                                                 v.transpose(-1, -2)).transpose(-1, -2)
        return x + self.out(out.reshape(b, -1, n))


def _resize(x: torch.Tensor, length: int) -> torch.Tensor:
    return x if x.shape[-1] == length else F.interpolate(x, size=length, mode="linear",
                                                         align_corners=False)


class Upsample(nn.Module):
    """Nearest x2 then Conv1d k3."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv = nn.Conv1d(c_in, c_out, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))


class UNet1D(nn.Module):
    """The neural mapper: ``(B, C, L) -> (B, C, L)`` for any ``L >= 8``."""

    def __init__(self, cfg: MapperConfig | None = None) -> None:
        super().__init__()
        cfg = cfg or MapperConfig()
        self.cfg = cfg
        g, p, d = cfg.groups, cfg.dropout, cfg.dim
        dims = [d, *[d * m for m in cfg.dim_mults]]
        pairs = list(zip(dims[:-1], dims[1:], strict=True))
        self.init = nn.Conv1d(cfg.in_channels, d, 7, padding=3)
        self.downs = nn.ModuleList()
        for i, (ci, co) in enumerate(pairs):
            last = i == len(pairs) - 1
            self.downs.append(nn.ModuleList([
                ResnetBlock(ci, ci, g, p), ResnetBlock(ci, ci, g, p),
                Attention1d(ci, cfg.heads, cfg.dim_head, linear=True),
                nn.Conv1d(ci, co, 3, padding=1) if last else nn.Conv1d(ci, co, 4, 2, 1)]))
        mid = dims[-1]
        self.mid = nn.Sequential(ResnetBlock(mid, mid, g, p),
                                 Attention1d(mid, cfg.heads, cfg.dim_head, linear=False),
                                 ResnetBlock(mid, mid, g, p))
        self.ups = nn.ModuleList()
        for i, (ci, co) in enumerate(reversed(pairs)):
            last = i == len(pairs) - 1
            self.ups.append(nn.ModuleList([
                ResnetBlock(co + ci, co, g, p), ResnetBlock(co + ci, co, g, p),
                Attention1d(co, cfg.heads, cfg.dim_head, linear=True),
                nn.Conv1d(co, ci, 3, padding=1) if last else Upsample(co, ci)]))
        self.final_res = ResnetBlock(2 * d, d, g, p)
        self.head = nn.Sequential(
            nn.Conv1d(d, cfg.in_channels, 1),
            nn.Conv1d(cfg.in_channels, cfg.in_channels, 3, padding=1, padding_mode="replicate"),
            nn.Conv1d(cfg.in_channels, cfg.in_channels, 3, padding=1, padding_mode="replicate"))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        if x.dim() != 3 or x.shape[1] != self.cfg.in_channels:
            raise ValueError(f"UNet1D expects (B, {self.cfg.in_channels}, L), got {tuple(x.shape)}")
        length = x.shape[-1]
        h = self.init(x)
        r = h
        saved = []
        for res1, res2, attn, down in self.downs:
            h = res1(h)
            saved.append(h)
            h = attn(res2(h))
            saved.append(h)
            h = down(h)
        h = self.mid(h)
        for res1, res2, attn, up in self.ups:
            h = res1(torch.cat([h, _resize(saved.pop(), h.shape[-1])], dim=1))
            h = res2(torch.cat([h, _resize(saved.pop(), h.shape[-1])], dim=1))
            h = up(attn(h))
        h = self.final_res(torch.cat([_resize(h, length), r], dim=1))
        return self.head(h)
