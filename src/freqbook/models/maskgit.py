"""TimeVQVAE stage 2: bidirectional (MaskGIT) priors over the LF and HF tokens.

Spec ``papers/nmvqtsg.md`` sections 2.2-2.3 (official code ``generators/maskgit.py`` and
``generators/bidirectional_transformer.py`` at commit 6e04f69), written here from that
description:

* LF prior ``p(s_l | c)`` and HF prior ``p(s_h | s_l, c)``; mask token id ``K``; a class token
  (``n_classes + 1`` entries, the last is the *null* class) is prepended;
* training: per sample ``r ~ U(0, 1)``, keep ``clip(floor(cos(pi r / 2) n), 0, n - 1)`` random
  tokens, mask the rest, cross-entropy on masked positions only; the class is replaced by the
  null class with probability ``p_unconditional`` (0.2); embedding dropout on non-mask tokens;
* sampling: ``T`` steps of iterative decoding from an all-mask sequence; at step ``t`` every
  masked position is sampled, the ``floor(n_0 cos(pi (t + 1) / (2T)))`` least confident
  sampled tokens are masked again (confidence ``log p + choice_temp (1 - r) Gumbel``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import weight_norm

from freqbook.models.timevqvae import TimeVQVAE


# ------------------------------------------------------------------------------ schedule
def mask_schedule(r: torch.Tensor | float) -> torch.Tensor:
    """``cos(pi r / 2)``: fraction of tokens kept (training) / still masked (decoding) at ``r``."""
    return torch.cos(math.pi * torch.as_tensor(r, dtype=torch.float32) / 2)


def random_mask(tokens: torch.Tensor, mask_id: int, generator: torch.Generator | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """Mask tokens ``(B, n)`` by the cosine schedule; returns ``(masked tokens, mask)``.

    Each row keeps ``clip(floor(cos(pi r / 2) n), 0, n - 1)`` random tokens (``r ~ U(0, 1)``),
    so at least one token is always masked.
    """
    b, n = tokens.shape
    r = torch.rand(b, generator=generator)
    n_keep = torch.clamp(torch.floor(mask_schedule(r) * n), 0, n - 1).long()
    order = torch.rand(b, n, generator=generator).argsort(dim=1)
    rank = order.argsort(dim=1)
    mask = (rank >= n_keep[:, None]).to(tokens.device)
    return torch.where(mask, torch.full_like(tokens, mask_id), tokens), mask


# ------------------------------------------------------------------------------ transformer
class Attention(nn.Module):
    """Pre-LN attention with a learned null key/value, q/k L2-norm and learned scales."""

    def __init__(self, dim: int, heads: int, dim_head: int = 64) -> None:
        super().__init__()
        inner = heads * dim_head
        self.heads, self.dim_head = heads, dim_head
        self.norm = nn.LayerNorm(dim)
        self.to_q = weight_norm(nn.Linear(dim, inner, bias=False))
        self.to_kv = weight_norm(nn.Linear(dim, 2 * inner, bias=False))
        self.null_kv = nn.Parameter(torch.randn(2, heads, 1, dim_head))
        self.q_scale = nn.Parameter(torch.ones(dim_head))
        self.k_scale = nn.Parameter(torch.ones(dim_head))
        self.out = nn.Sequential(weight_norm(nn.Linear(inner, dim, bias=False)), nn.LayerNorm(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        b, n, _ = x.shape
        x = self.norm(x)
        q = self.to_q(x)
        k, v = self.to_kv(x).chunk(2, dim=-1)
        q, k, v = (t.reshape(b, n, self.heads, self.dim_head).transpose(1, 2) for t in (q, k, v))
        nk, nv = (t.expand(b, -1, -1, -1) for t in self.null_kv)
        k, v = torch.cat([nk, k], dim=2), torch.cat([nv, v], dim=2)
        q = F.normalize(q, dim=-1) * self.q_scale
        k = F.normalize(k, dim=-1) * self.k_scale
        out = F.scaled_dot_product_attention(q, k, v)
        return self.out(out.transpose(1, 2).reshape(b, n, -1))


class Block(nn.Module):
    """``x + Attn(x)`` then ``x + FF(x)``, FF = LN, Linear, GELU, LN, Linear."""

    def __init__(self, dim: int, heads: int, ff_mult: int = 1) -> None:
        super().__init__()
        inner = int(dim * ff_mult * 2 / 3)
        self.attn = Attention(dim, heads)
        self.ff = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, inner), nn.GELU(),
                                nn.LayerNorm(inner), nn.Linear(inner, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        x = x + self.attn(x)
        return x + self.ff(x)


class Upscale(nn.Module):
    """Conv1d k7 -> GELU -> BN -> dilated Conv1d k7 on ``(B, n, dim)`` sequences."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.net = nn.Sequential(weight_norm(nn.Conv1d(dim, dim, 7, padding=3)), nn.GELU(),
                                 nn.BatchNorm1d(dim),
                                 weight_norm(nn.Conv1d(dim, dim, 7, padding=6, dilation=2)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return self.net(x.transpose(1, 2)).transpose(1, 2)


@dataclass(frozen=True)
class PriorConfig:
    """Prior hyper-parameters (section 3.2): LF 128/4 layers/2 heads, HF 32/1/1."""

    n_classes: int
    codebook_size: int = 1024
    emb_dim: int = 128
    hidden_lf: int = 128
    layers_lf: int = 4
    heads_lf: int = 2
    hidden_hf: int = 32
    layers_hf: int = 1
    heads_hf: int = 1
    ff_mult: int = 1
    emb_dropout: float = 0.3
    p_unconditional: float = 0.2
    T_lf: int = 10
    T_hf: int = 10
    choice_temp_lf: float = 10.0
    choice_temp_hf: float = 0.0


class Prior(nn.Module):
    """Bidirectional transformer over one token sequence, optionally conditioned on LF tokens."""

    def __init__(self, cfg: PriorConfig, n_tokens: int, hidden: int, layers: int, heads: int,
                 n_cond: int | None = None) -> None:
        super().__init__()
        k, d = cfg.codebook_size, cfg.emb_dim
        self.mask_id, self.emb_dropout = k, cfg.emb_dropout
        self.tok = nn.Embedding(k + 1, d)
        self.pos = nn.Parameter(torch.randn(1, n_tokens, d) * 0.02)
        self.cls = nn.Embedding(cfg.n_classes + 1, d)
        self.cond = n_cond
        if n_cond is not None:
            self.cond_tok = nn.Embedding(k + 1, d)
            self.upscale = Upscale(d)
            d_in = 2 * d
            self.cls_proj = nn.Linear(d, d_in)
        else:
            d_in = d
        self.pos_in = nn.Linear(d_in, hidden)
        self.blocks = nn.Sequential(*[Block(hidden, heads, cfg.ff_mult) for _ in range(layers)])
        self.head = nn.Sequential(nn.Linear(hidden, hidden), nn.GELU(),
                                  nn.LayerNorm(hidden, eps=1e-12), nn.Linear(hidden, k))
        self.n_tokens = n_tokens

    def forward(self, tokens: torch.Tensor, cls: torch.Tensor,
                cond_tokens: torch.Tensor | None = None) -> torch.Tensor:
        """Logits ``(B, n, K)`` for ``tokens (B, n)`` (mask id ``K``), class ids ``(B,)``."""
        e = self.tok(tokens)
        if self.training and self.emb_dropout > 0:
            keep = (tokens != self.mask_id)[..., None]
            e = torch.where(keep, F.dropout(e, self.emb_dropout, True), e)
        e = e + self.pos
        c = self.cls(cls)[:, None]
        if self.cond is not None:
            if cond_tokens is None:
                raise ValueError("the HF prior needs the LF tokens (cond_tokens)")
            ce = self.cond_tok(cond_tokens)
            ce = F.interpolate(ce.transpose(1, 2), size=self.n_tokens, mode="nearest")
            e = torch.cat([e, self.upscale(ce.transpose(1, 2))], dim=-1)
            c = self.cls_proj(c)
        h = self.blocks(self.pos_in(torch.cat([c, e], dim=1)))
        return self.head(h[:, 1:])


class MaskGIT(nn.Module):
    """LF and HF priors over a frozen :class:`~freqbook.models.timevqvae.TimeVQVAE`."""

    def __init__(self, cfg: PriorConfig, n_lf: int, n_hf: int) -> None:
        super().__init__()
        self.cfg = cfg
        self.mask_id = cfg.codebook_size
        self.null_class = cfg.n_classes
        self.lf = Prior(cfg, n_lf, cfg.hidden_lf, cfg.layers_lf, cfg.heads_lf)
        self.hf = Prior(cfg, n_hf, cfg.hidden_hf, cfg.layers_hf, cfg.heads_hf, n_cond=n_lf)

    def loss(self, s_l: torch.Tensor, s_h: torch.Tensor, y: torch.Tensor,
             generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """``CE_LF + CE_HF`` on masked positions only (section 2.2)."""
        drop = torch.rand(y.shape[0], generator=generator) < self.cfg.p_unconditional
        cls = torch.where(drop.to(y.device), torch.full_like(y, self.null_class), y)
        m_l, mask_l = random_mask(s_l, self.mask_id, generator)
        m_h, mask_h = random_mask(s_h, self.mask_id, generator)
        ce_l = F.cross_entropy(self.lf(m_l, cls)[mask_l], s_l[mask_l])
        ce_h = F.cross_entropy(self.hf(m_h, cls, s_l)[mask_h], s_h[mask_h])
        return {"loss": ce_l + ce_h, "ce_lf": ce_l.detach(), "ce_hf": ce_h.detach()}

    @torch.no_grad()
    def _decode(self, prior: Prior, n: int, cls: torch.Tensor, steps: int, choice_temp: float,
                cond: torch.Tensor | None, generator: torch.Generator | None) -> torch.Tensor:
        b = cls.shape[0]
        s = torch.full((b, n), self.mask_id, dtype=torch.long, device=cls.device)
        n0 = n
        for t in range(steps):
            logits = prior(s, cls, cond)
            probs = logits.softmax(-1)
            sampled = torch.multinomial(probs.reshape(-1, probs.shape[-1]), 1,
                                        generator=generator).reshape(b, n)
            unknown = s == self.mask_id
            sampled = torch.where(unknown, sampled, s)
            r = (t + 1) / steps
            m = int(math.floor(n0 * float(mask_schedule(r))))
            p_sel = probs.gather(-1, sampled[..., None])[..., 0]
            conf = torch.log(p_sel + 1e-5)
            if choice_temp > 0:
                u = torch.rand(conf.shape, generator=generator).clamp(1e-20, 1 - 1e-7)
                conf = conf + choice_temp * (1 - r) * -torch.log(-torch.log(u))
            conf = torch.where(unknown, conf, torch.full_like(conf, math.inf))
            s = sampled
            if m > 0:
                low = conf.argsort(dim=1)[:, :m]
                s = s.scatter(1, low, self.mask_id)
        return s

    @torch.no_grad()
    def sample(self, n: int, stage1: TimeVQVAE, classes: int | torch.Tensor | None = None,
               batch_size: int = 32, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` series ``(n, C, L)``: unconditional (null class) or of class ``classes``."""
        self.eval()
        stage1.eval()
        out = []
        for start in range(0, n, batch_size):
            b = min(batch_size, n - start)
            if classes is None:
                cls = torch.full((b,), self.null_class, dtype=torch.long)
            elif isinstance(classes, int):
                cls = torch.full((b,), classes, dtype=torch.long)
            else:
                cls = classes[start:start + b].long()
            s_l = self._decode(self.lf, self.lf.n_tokens, cls, self.cfg.T_lf,
                               self.cfg.choice_temp_lf, None, generator)
            s_h = self._decode(self.hf, self.hf.n_tokens, cls, self.cfg.T_hf,
                               self.cfg.choice_temp_hf, s_l, generator)
            out.append(stage1.decode_tokens(s_l, s_h))
        return torch.cat(out)
