"""Vector quantiser of TimeVQVAE / NM-VQTSG with its stochastic variant (SVQ).

Spec ``papers/nmvqtsg.md`` sections 2.1 and 2.4 (official code ``vector_quantization/vq.py``
at commit 6e04f69, itself adapted from *vector-quantize-pytorch*); written here from that
description:

* tokens ``z`` (dim ``D``) are projected to a small codebook space (``project_in``, dim ``d``),
  matched to ``K`` codes by squared Euclidean distance, and projected back (``project_out``);
* the codebook is an exponential moving average of the assigned vectors (decay 0.8, Laplace
  smoothing ``eps``), initialised by k-means on the first training batch; there is no codebook
  loss, only the commitment loss ``MSE(sg[q], z)`` (in the codebook space);
* gradients reach the encoder through the straight-through estimator ``z + sg[q - z]``;
* **SVQ** replaces the argmin by a sample of ``softmax(-||z - e_k||^2 / tau)`` per token on the
  frozen codebook (no EMA update), as in NM-VQTSG's training pairs (section 2.4).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class QuantOut:
    """What :meth:`VectorQuantizer.forward` returns.

    Attributes
    ----------
    z_q
        Quantised tokens in the input space, same shape as the input ``(B, D, H, W)``.
    indices
        Code indices ``(B, H * W)``, grid flattened row-major (frequency-major).
    commit_loss
        ``MSE(sg[q], z)`` in the codebook space (a scalar tensor).
    perplexity
        ``exp(entropy)`` of the code usage in this batch (a float).
    """

    z_q: torch.Tensor
    indices: torch.Tensor
    commit_loss: torch.Tensor
    perplexity: float


def squared_distances(z: torch.Tensor, codebook: torch.Tensor) -> torch.Tensor:
    """``||z_i - e_k||^2`` for tokens ``z (N, d)`` and codes ``(K, d)`` -> ``(N, K)``."""
    return (z.pow(2).sum(1, keepdim=True) - 2.0 * z @ codebook.t()
            + codebook.pow(2).sum(1)[None, :]).clamp_min(0.0)


def sample_codes(dist: torch.Tensor, tau: float | None,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """Deterministic (``tau`` None or 0) or stochastic code choice from distances ``(N, K)``.

    With ``tau > 0`` the index is drawn from ``softmax(-dist / tau)`` by the Gumbel-max trick
    (``argmax(-dist / tau + G)``), which tends to ``argmin(dist)`` as ``tau -> 0``.
    """
    if tau is None or tau <= 0.0:
        return dist.argmin(dim=1)
    u = torch.rand(dist.shape, generator=generator, device=dist.device, dtype=dist.dtype)
    gumbel = -torch.log(-torch.log(u.clamp(1e-20, 1.0 - 1e-7)))
    return (-dist / tau + gumbel).argmax(dim=1)


def kmeans(x: torch.Tensor, k: int, iters: int = 10,
           generator: torch.Generator | None = None) -> torch.Tensor:
    """Plain k-means (squared Euclidean) of ``x (N, d)`` into ``k`` centres.

    Initial centres are drawn from ``x`` with replacement when ``N < k`` (so duplicated codes
    are expected at the start, spec pitfall 7.11); empty clusters keep their centre.
    """
    n = x.shape[0]
    idx = (torch.randint(0, n, (k,), generator=generator) if n < k
           else torch.randperm(n, generator=generator)[:k])
    centres = x[idx].clone()
    for _ in range(iters):
        assign = squared_distances(x, centres).argmin(1)
        counts = torch.bincount(assign, minlength=k).to(x.dtype)
        sums = torch.zeros_like(centres).index_add_(0, assign, x)
        filled = counts > 0
        centres[filled] = sums[filled] / counts[filled, None]
    return centres


class VectorQuantizer(nn.Module):
    """EMA vector quantiser with input/output projections, STE, k-means init and SVQ.

    Parameters
    ----------
    dim
        Token dimension ``D`` of the encoder output (paper: 128).
    codebook_size
        Number of codes ``K`` (paper: 1024).
    codebook_dim
        Dimension ``d`` of the codebook space (paper: 8).
    decay, eps
        EMA decay (paper: 0.8) and Laplace smoothing (1e-5).
    kmeans_init
        Initialise the codebook by k-means on the first training batch (paper: yes).
    commitment_weight
        Weight of the commitment loss (paper: 1).
    """

    def __init__(self, dim: int = 128, codebook_size: int = 1024, codebook_dim: int = 8,
                 decay: float = 0.8, eps: float = 1e-5, kmeans_init: bool = True,
                 commitment_weight: float = 1.0) -> None:
        super().__init__()
        if codebook_size < 2 or codebook_dim < 1:
            raise ValueError(f"codebook_size >= 2 and codebook_dim >= 1 required, "
                             f"got {codebook_size}, {codebook_dim}")
        self.codebook_size, self.codebook_dim = codebook_size, codebook_dim
        self.decay, self.eps, self.commitment_weight = decay, eps, commitment_weight
        self.project_in = nn.Linear(dim, codebook_dim)
        self.project_out = nn.Linear(codebook_dim, dim)
        embed = torch.randn(codebook_size, codebook_dim)
        self.register_buffer("embed", embed)
        self.register_buffer("embed_avg", embed.clone())
        self.register_buffer("cluster_size", torch.ones(codebook_size))
        self.register_buffer("initted", torch.tensor(not kmeans_init))

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _flatten(z: torch.Tensor) -> tuple[torch.Tensor, tuple[int, ...]]:
        """``(B, D, H, W)`` -> tokens ``(B * H * W, D)`` in row-major grid order."""
        b, d, h, w = z.shape
        return z.permute(0, 2, 3, 1).reshape(b * h * w, d), (b, d, h, w)

    @staticmethod
    def _unflatten(t: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
        b, d, h, w = shape
        return t.reshape(b, h, w, -1).permute(0, 3, 1, 2)

    @torch.no_grad()
    def _ema_update(self, x: torch.Tensor, indices: torch.Tensor) -> None:
        onehot = F.one_hot(indices, self.codebook_size).to(x.dtype)
        self.cluster_size.mul_(self.decay).add_(onehot.sum(0), alpha=1 - self.decay)
        self.embed_avg.mul_(self.decay).add_(onehot.t() @ x, alpha=1 - self.decay)
        n = self.cluster_size.sum()
        smoothed = (self.cluster_size + self.eps) / (n + self.codebook_size * self.eps) * n
        self.embed.copy_(self.embed_avg / smoothed[:, None])

    def codes_to_z(self, indices: torch.Tensor, grid: tuple[int, int]) -> torch.Tensor:
        """Indices ``(B, H * W)`` -> quantised tokens ``(B, D, H, W)`` (``project_out(e_k)``)."""
        b = indices.shape[0]
        h, w = grid
        out = self.project_out(self.embed[indices.reshape(-1)])
        return out.reshape(b, h, w, -1).permute(0, 3, 1, 2)

    # ------------------------------------------------------------------ forward
    def forward(self, z: torch.Tensor, svq_temp: float | None = None,
                generator: torch.Generator | None = None) -> QuantOut:
        """Quantise ``z (B, D, H, W)``.

        Parameters
        ----------
        z
            Encoder output.
        svq_temp
            ``None``: deterministic quantisation (nearest code). A temperature ``tau > 0``:
            stochastic quantisation (SVQ); the codebook is never updated then.
        generator
            Random source of SVQ.
        """
        if z.dim() != 4:
            raise ValueError(f"VectorQuantizer expects (B, D, H, W), got shape {tuple(z.shape)}")
        tokens, shape = self._flatten(z)
        x = self.project_in(tokens)
        if self.training and not bool(self.initted) and svq_temp is None:
            with torch.no_grad():
                centres = kmeans(x.detach(), self.codebook_size)
                self.embed.copy_(centres)
                self.embed_avg.copy_(centres)
                self.cluster_size.fill_(1.0)
                self.initted.fill_(True)
        dist = squared_distances(x, self.embed)
        indices = sample_codes(dist, svq_temp, generator)
        q = self.embed[indices]
        if self.training and svq_temp is None:
            self._ema_update(x.detach(), indices)
        commit = F.mse_loss(q.detach(), x) * self.commitment_weight
        q_ste = x + (q - x).detach()
        z_q = self._unflatten(self.project_out(q_ste), shape)
        counts = torch.bincount(indices, minlength=self.codebook_size).to(x.dtype)
        p = counts / counts.sum()
        perplexity = float(torch.exp(-(p * torch.log(p + 1e-10)).sum()))
        return QuantOut(z_q, indices.reshape(shape[0], -1), commit, perplexity)
