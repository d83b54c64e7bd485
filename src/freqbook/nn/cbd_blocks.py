"""The two units of the content-aware balanced decoder (CBD, Han et al., AAAI 2025, Sec. 3).

* :class:`CIM` - content-aware interaction modulation (Eqs. 4-6): a complex affine map of the
  spectrum, shared over frequencies, gives a modulation ``M = sigma(W_F Z_F + b_F)`` (``sigma`` =
  ReLU on the real and imaginary parts, spec pitfall P4) and the output ``M * Z_F``. A product
  in the frequency domain is a circular convolution along tokens with the kernel ``irfft(M)``,
  i.e. a *dynamic global convolution* whose kernel depends on the content.
* :class:`SER` - spectrum energy rebalance (Eqs. 9-12): energy ``A = |Z_F|`` per bin and channel,
  normalised over frequency (softmax, faithful; or division by the maximum), an energy-aware gate
  ``f = W_c A + b_c`` with ``K + 1`` outputs (the paper prints ``K``, pitfall P3), the Bernstein
  response ``p_K(w) = sum_k f_k C(K,k) (1-w)^(K-k) w^k`` and the rebalanced spectrum
  ``p_K * Z_F``. ``W_c = 0, b_c = 1`` makes ``p_K = 1`` (Bernstein partition of unity): SER
  starts as the identity.
* :class:`CBDBlock` - FFT -> CIM -> SER -> IFFT in place of self-attention inside the same
  post-LN transformer shell as the encoder (Fig. 2b); ``use_cim``/``use_ser`` switch the units
  off for the ablation (``M = 1`` / ``p_K = 1``).

Two departures from the paper's text, both registered in ``data/deviations/cbd.yaml``:

* **FFT scaling.** Eqs. 2-3 define the unscaled forward DFT with ``1/T`` on the inverse (torch's
  ``norm="backward"``); the book's default is the orthonormal ``norm="ortho"``. CIM is affine
  and SER's softmax sees ``|Z_F|``, so the scale changes what both compute; ``fft_norm`` selects
  either (the ablation record measures the difference).
* **Where the recursion lives.** Eq. 13 writes the block recursion on the frequency
  representation; here residual and LayerNorm act on the tokens after the inverse FFT, as in a
  transformer block whose attention is replaced by the spectral operator.

CIM follows Eq. 4 (``M = sigma(W_F Z_F + b_F)`` with a complex product); Eq. 5's printed
imaginary part is not the imaginary part of a complex product, so it is not followed literally.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from freqbook.nn.transformer import FeedForward, ResidualLN

SER_NORMS = ("softmax", "max")
#: torch's FFT scalings: ``backward`` = Eqs. 2-3 of the paper, ``ortho`` = the book's default
FFT_NORMS = ("ortho", "backward", "forward")


class CIM(nn.Module):
    """Content-aware interaction modulation on a spectrum ``Z_F (n, S, D)`` (complex)."""

    def __init__(self, d_model: int) -> None:
        super().__init__()
        bound = 1.0 / math.sqrt(d_model)  # the default nn.Linear range
        self.w_re = nn.Parameter(torch.empty(d_model, d_model).uniform_(-bound, bound))
        self.w_im = nn.Parameter(torch.empty(d_model, d_model).uniform_(-bound, bound))
        self.b_re = nn.Parameter(torch.empty(d_model).uniform_(-bound, bound))
        self.b_im = nn.Parameter(torch.empty(d_model).uniform_(-bound, bound))
        self.last_modulation: torch.Tensor | None = None

    def modulation(self, zf: torch.Tensor) -> torch.Tensor:
        """``M = ReLU(Re(W_F Z_F + b_F)) + j ReLU(Im(W_F Z_F + b_F))`` (Eq. 5)."""
        re, im = zf.real, zf.imag
        m_re = torch.relu(re @ self.w_re.T - im @ self.w_im.T + self.b_re)
        m_im = torch.relu(re @ self.w_im.T + im @ self.w_re.T + self.b_im)
        return torch.complex(m_re, m_im)

    def forward(self, zf: torch.Tensor) -> torch.Tensor:
        """``M * Z_F`` (Eq. 6)."""
        m = self.modulation(zf)
        self.last_modulation = m.detach()
        return m * zf


def bernstein_basis(w: torch.Tensor, order: int) -> torch.Tensor:
    """``C(K,k) (1-w)^(K-k) w^k`` for ``k = 0..K``, stacked on a new last axis."""
    if order < 0:
        raise ValueError(f"Bernstein order must be >= 0, got {order}")
    binom = torch.tensor([math.comb(order, i) for i in range(order + 1)], dtype=w.dtype,
                         device=w.device)
    ones = torch.ones_like(w).unsqueeze(-1)
    if order == 0:
        return ones
    # powers by cumulative products: far cheaper (forward and backward) than float ``pow``
    up = torch.cat([ones, w.unsqueeze(-1).expand(*w.shape, order).cumprod(-1)], -1)
    down = torch.cat([ones, (1.0 - w).unsqueeze(-1).expand(*w.shape, order).cumprod(-1)], -1)
    return binom * up * down.flip(-1)


def bernstein_to_monomial(order: int, device: torch.device | str | None = None) -> torch.Tensor:
    """Matrix ``T (K+1, K+1)`` with ``B_k(w) = sum_j T[k, j] w^j`` (float64)."""
    t = torch.zeros(order + 1, order + 1, dtype=torch.float64)
    for k in range(order + 1):
        for j in range(k, order + 1):
            t[k, j] = (-1) ** (j - k) * math.comb(order, j) * math.comb(j, k)
    return t.to(device)


class SER(nn.Module):
    """Spectrum energy rebalance for spectra with ``n_freq`` bins.

    Parameters
    ----------
    n_freq
        Number of frequency bins ``S`` (the gate's input size; ties a model to one length).
    order
        Bernstein order ``K`` (paper: 12, Table 3).
    pooled
        Feed the gate the channel-averaged normalised energy (one coefficient vector per sample)
        instead of one per hidden channel (our default, spec section 2.3).
    norm
        ``"softmax"`` over frequencies (paper) or ``"max"`` (``A / max_s A``).
    """

    def __init__(self, n_freq: int, order: int = 12, pooled: bool = False,
                 norm: str = "softmax") -> None:
        super().__init__()
        if norm not in SER_NORMS:
            raise ValueError(f"unknown SER normalisation {norm!r}; valid: {', '.join(SER_NORMS)}")
        self.order, self.pooled, self.norm = int(order), bool(pooled), norm
        self.gate = nn.Linear(n_freq, order + 1)
        nn.init.zeros_(self.gate.weight)
        nn.init.ones_(self.gate.bias)
        self.last_input: torch.Tensor | None = None
        self.last_energy: torch.Tensor | None = None
        self.last_gain: torch.Tensor | None = None

    def normalised_energy(self, zf: torch.Tensor) -> torch.Tensor:
        """``A~ (n, S, D)`` in [0, 1]: softmax (or max-division) of ``|Z_F|`` over frequency."""
        energy = zf.abs()
        if self.norm == "softmax":
            return torch.softmax(energy, dim=1)
        return energy / energy.amax(dim=1, keepdim=True).clamp_min(1e-12)

    def coefficients(self, a: torch.Tensor) -> torch.Tensor:
        """Gate output ``f (n, D or 1, K+1)`` from ``A~ (n, S, D)`` (Eq. 11)."""
        gate_in = a.mean(dim=2, keepdim=True) if self.pooled else a
        return self.gate(gate_in.transpose(1, 2))

    def response(self, a: torch.Tensor, coef: torch.Tensor) -> torch.Tensor:
        """``p_K(A~) (n, S, D)`` for coefficients ``coef (n, D or 1, K+1)`` (Eq. 10)."""
        # Bernstein -> monomial coefficients, then Horner's rule in float64: K cheap element-wise
        # steps instead of the (n, S, D, K+1) basis tensor (identical values, see the tests).
        mono = (coef.double() @ bernstein_to_monomial(self.order, a.device)).unsqueeze(1)
        w = a.double()
        p = mono[..., self.order].expand_as(w)
        for j in range(self.order - 1, -1, -1):
            p = p * w + mono[..., j]
        return p.to(a.dtype)

    def forward(self, zf: torch.Tensor) -> torch.Tensor:
        """``p_K(A~) * Z_F`` (Eq. 12)."""
        a = self.normalised_energy(zf)
        gain = self.response(a, self.coefficients(a))
        self.last_input, self.last_energy, self.last_gain = zf.detach(), a.detach(), gain.detach()
        return gain * zf


class CBDBlock(nn.Module):
    """One CBD layer on tokens ``Z (n, T, D)``: spectral operator, then the FFN (Fig. 2b).

    The spectral operator is ``irfft(SER(CIM(rfft(Z))), n=T)`` along tokens with the FFT scaling
    ``fft_norm`` (``"ortho"`` by default; ``"backward"`` is the paper's Eqs. 2-3: unscaled forward,
    ``1/T`` inverse); residual + LayerNorm around it and around the FFN as in the encoder blocks.
    """

    def __init__(self, d_model: int, n_tokens: int, order: int = 12, dropout: float = 0.2,
                 res_init: float | None = 1e-8, use_cim: bool = True, use_ser: bool = True,
                 ser_pooled: bool = False, ser_norm: str = "softmax", ffn_mult: int = 4,
                 fft_norm: str = "ortho") -> None:
        super().__init__()
        if fft_norm not in FFT_NORMS:
            raise ValueError(f"unknown fft_norm {fft_norm!r}; valid: {', '.join(FFT_NORMS)}")
        self.n_tokens = int(n_tokens)
        self.fft_norm = fft_norm
        self.cim = CIM(d_model) if use_cim else None
        self.ser = SER(n_tokens // 2 + 1, order, ser_pooled, ser_norm) if use_ser else None
        self.ffn = FeedForward(d_model, ffn_mult, dropout)
        self.res1 = ResidualLN(d_model, dropout, res_init)
        self.res2 = ResidualLN(d_model, dropout, res_init)

    def spectral(self, z: torch.Tensor) -> torch.Tensor:
        """FFT -> CIM -> SER -> IFFT along the token axis."""
        if z.shape[1] != self.n_tokens:
            raise ValueError(f"CBD block built for {self.n_tokens} tokens, got {z.shape[1]}")
        zf = torch.fft.rfft(z, dim=1, norm=self.fft_norm)
        if self.cim is not None:
            zf = self.cim(zf)
        if self.ser is not None:
            zf = self.ser(zf)
        return torch.fft.irfft(zf, n=self.n_tokens, dim=1, norm=self.fft_norm)

    def forward(self, z: torch.Tensor) -> torch.Tensor:  # noqa: D102
        z = self.res1(z, self.spectral(z))
        return self.res2(z, self.ffn(z))
