"""TimeVQVAE stage 1: the time-frequency VQ tokenizer (December-2024 version).

Spec ``papers/nmvqtsg.md`` section 2.1 (official code ``utils/__init__.py``,
``encoder_decoders/vq_vae_encdec.py`` at commit 6e04f69), written here from that description:

* STFT with ``n_fft = 4``, hop 1, periodic Hann window, centred (reflect), normalised; real and
  imaginary parts stacked as channels. The low-frequency (LF) branch keeps bin 0, the
  high-frequency (HF) branch bins 1-2; the other bins are dropped inside the encoders.
* Encoders: depthwise-separable, weight-normalised convolutions with stride ``(1, 2)``, Snake
  activations, residual blocks, L2-normalised 128-d tokens; LF kernels ``(1, k)``, HF ``(3, k)``.
* One :class:`~freqbook.nn.vq.VectorQuantizer` per branch (1024 codes of dim 8, EMA).
* Decoders mirror the encoders with transposed convolutions; their output is put back into a
  zero STFT tensor, inverted and linearly interpolated to the input length.
* Loss ``MSE(x_l, x̂_l) + L1(x_h, x̂_h) + commit_l + commit_h`` (time domain only).

The stage-2 priors and the sampler live in :mod:`freqbook.models.maskgit`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import weight_norm

from freqbook.nn.snake import Snake
from freqbook.nn.vq import VectorQuantizer

N_FFT = 4


# ------------------------------------------------------------------------------ STFT
def stft(x: torch.Tensor, n_fft: int = N_FFT) -> torch.Tensor:
    """``(B, C, L)`` -> ``(B, 2C, n_fft // 2 + 1, L + 1)``: real parts then imaginary parts."""
    b, c, length = x.shape
    window = torch.hann_window(n_fft, device=x.device, dtype=x.dtype)
    spec = torch.stft(x.reshape(b * c, length), n_fft, hop_length=n_fft // 4, window=window,
                      center=True, pad_mode="reflect", normalized=True, onesided=True,
                      return_complex=True)
    spec = spec.reshape(b, c, *spec.shape[-2:])
    return torch.cat([spec.real, spec.imag], dim=1)


def istft(xf: torch.Tensor, length: int, n_fft: int = N_FFT) -> torch.Tensor:
    """Inverse of :func:`stft`, then linear interpolation to ``length`` samples."""
    b, c2, f, t = xf.shape
    c = c2 // 2
    spec = torch.complex(xf[:, :c], xf[:, c:]).reshape(b * c, f, t)
    window = torch.hann_window(n_fft, device=xf.device, dtype=xf.dtype)
    x = torch.istft(spec, n_fft, hop_length=n_fft // 4, window=window, center=True,
                    normalized=True, onesided=True)
    x = x.reshape(b, c, -1)
    if x.shape[-1] != length:
        x = F.interpolate(x, size=length, mode="linear", align_corners=False)
    return x


def split_bands(x: torch.Tensor, n_fft: int = N_FFT) -> tuple[torch.Tensor, torch.Tensor]:
    """Time-domain LF and HF parts: iSTFT of bin 0 only, and of every bin but 0.

    ``x_l + x_h`` equals ``x`` up to STFT round-off (the transform is linear).
    """
    xf = stft(x, n_fft)
    lf, hf = xf.clone(), xf.clone()
    lf[:, :, 1:] = 0.0
    hf[:, :, :1] = 0.0
    length = x.shape[-1]
    return istft(lf, length, n_fft), istft(hf, length, n_fft)


def downsample_stages(length: int, width: int, n_fft: int = N_FFT) -> int:
    """Stride-2 stages ``max(1, round(log2(rate)))``, ``rate = round(L / (log2(n_fft) - 1) / w)``.

    Python rounds half to even, as the code does.
    """
    rate = round(length / (math.log2(n_fft) - 1) / width)
    return max(1, round(math.log2(max(rate, 1))))


# ------------------------------------------------------------------------------ blocks
def _sep_conv(c_in: int, c_out: int, kh: int, kw: int, stride: tuple[int, int] = (1, 1),
              transpose: bool = False) -> nn.Sequential:
    """Depthwise (grouped) conv followed by a 1x1 conv, both weight-normalised."""
    ph, pw = (kh - 1) // 2, 1 if kw in (3, 4) else (kw - 1) // 2
    if transpose:
        dw = nn.ConvTranspose2d(c_in, c_in, (kh, kw), stride, (ph, pw), groups=c_in)
    else:
        dw = nn.Conv2d(c_in, c_in, (kh, kw), stride, (ph, pw), groups=c_in,
                       padding_mode="replicate")
    return nn.Sequential(weight_norm(dw), weight_norm(nn.Conv2d(c_in, c_out, 1)))


class ResBlock(nn.Module):
    """Snake -> sep-conv -> BN -> Snake -> sep-conv -> dropout, plus a (1x1) skip."""

    def __init__(self, c_in: int, c_out: int, kh: int, dropout: float = 0.3) -> None:
        super().__init__()
        self.body = nn.Sequential(Snake(c_in), _sep_conv(c_in, c_out, kh, 3), nn.BatchNorm2d(c_out),
                                  Snake(c_out), _sep_conv(c_out, c_out, kh, 3), nn.Dropout(dropout))
        self.skip = nn.Identity() if c_in == c_out else nn.Conv2d(c_in, c_out, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return self.skip(x) + self.body(x)


def _down(c_in: int, c_out: int, kh: int) -> nn.Sequential:
    return nn.Sequential(_sep_conv(c_in, c_out, kh, 4, (1, 2)), nn.BatchNorm2d(c_out), Snake(c_out))


def _up(c_in: int, c_out: int, kh: int) -> nn.Sequential:
    return nn.Sequential(_sep_conv(c_in, c_out, kh, 4, (1, 2), transpose=True),
                         nn.BatchNorm2d(c_out), Snake(c_out))


class Encoder(nn.Module):
    """``(B, 2C, H, L+1)`` -> L2-normalised tokens ``(B, hid_dim, H, W')`` (section 2.1)."""

    def __init__(self, in_channels: int, kh: int, n_down: int, init_dim: int = 4,
                 hid_dim: int = 128, n_res: int = 2, dropout: float = 0.3) -> None:
        super().__init__()
        layers: list[nn.Module] = [_down(in_channels, init_dim, kh)]
        d = init_dim
        for _ in range(n_down - 1):
            layers.append(_down(d, 2 * d, kh))
            d *= 2
            layers.extend(ResBlock(d, d, kh, dropout) for _ in range(n_res))
        layers.append(ResBlock(d, hid_dim, kh, dropout))
        self.net = nn.Sequential(*layers)
        self.last_dim = d

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return F.normalize(self.net(x), dim=1)


class Decoder(nn.Module):
    """Tokens ``(B, hid_dim, H, W')`` -> STFT map ``(B, 2C, H, ~W' 2^n)`` (mirrors the encoder)."""

    def __init__(self, out_channels: int, kh: int, n_down: int, last_dim: int,
                 hid_dim: int = 128, n_res: int = 2, dropout: float = 0.3) -> None:
        super().__init__()
        d = last_dim
        layers: list[nn.Module] = [ResBlock(hid_dim, d, kh, dropout)]
        for _ in range(n_down - 1):
            layers.extend(ResBlock(d, d, kh, dropout) for _ in range(n_res))
            layers.append(_up(d, d // 2, kh))
            d //= 2
        layers.append(weight_norm(nn.ConvTranspose2d(d, d, (kh, 4), (1, 2), ((kh - 1) // 2, 1))))
        layers.append(weight_norm(nn.ConvTranspose2d(d, out_channels, (kh, 3), 1,
                                                     ((kh - 1) // 2, 1))))
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return self.net(z)


# ------------------------------------------------------------------------------ stage 1
@dataclass(frozen=True)
class Stage1Config:
    """Stage-1 hyper-parameters (``configs/config.yaml`` of the code, section 3.2)."""

    in_channels: int = 1
    length: int = 140
    init_dim: int = 4
    hid_dim: int = 128
    n_res: int = 2
    dropout: float = 0.3
    width_lf: int = 8
    width_hf: int = 32
    codebook_size: int = 1024
    codebook_dim: int = 8
    decay: float = 0.8


class Branch(nn.Module):
    """Encoder, quantiser and decoder of one frequency band (``bins`` of the STFT)."""

    def __init__(self, cfg: Stage1Config, bins: tuple[int, ...], width: int) -> None:
        super().__init__()
        self.bins = bins
        kh = 1 if len(bins) == 1 else 3
        n = downsample_stages(cfg.length, width)
        c2 = 2 * cfg.in_channels
        self.encoder = Encoder(c2, kh, n, cfg.init_dim, cfg.hid_dim, cfg.n_res, cfg.dropout)
        self.vq = VectorQuantizer(cfg.hid_dim, cfg.codebook_size, cfg.codebook_dim, cfg.decay)
        self.decoder = Decoder(c2, kh, n, self.encoder.last_dim, cfg.hid_dim, cfg.n_res,
                               cfg.dropout)
        with torch.no_grad():
            probe = torch.zeros(1, c2, len(bins), cfg.length + 1)
            self.grid: tuple[int, int] = tuple(self.encoder.eval()(probe).shape[-2:])  # type: ignore[assignment]
        self.encoder.train()

    @property
    def n_tokens(self) -> int:
        """Tokens per series (``H' * W'``)."""
        return self.grid[0] * self.grid[1]

    def encode(self, xf: torch.Tensor) -> torch.Tensor:
        """STFT map of all bins -> continuous tokens of this band."""
        return self.encoder(xf[:, :, list(self.bins)])

    def decode(self, z_q: torch.Tensor, n_bins: int, length: int) -> torch.Tensor:
        """Quantised tokens -> time-domain signal of this band, length ``length``."""
        out = self.decoder(z_q)
        full = out.new_zeros(out.shape[0], out.shape[1], n_bins, out.shape[-1])
        full[:, :, list(self.bins)] = out
        return istft(full, length)


class TimeVQVAE(nn.Module):
    """Stage 1: LF and HF branches; ``forward`` returns the loss terms of section 2.1."""

    def __init__(self, cfg: Stage1Config) -> None:
        super().__init__()
        self.cfg = cfg
        self.n_bins = N_FFT // 2 + 1
        self.lf = Branch(cfg, (0,), cfg.width_lf)
        self.hf = Branch(cfg, tuple(range(1, self.n_bins)), cfg.width_hf)

    def tokens(self, x: torch.Tensor, svq_temp: float | None = None,
               generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Token indices ``(s_l, s_h)`` of ``x`` (deterministic, or SVQ with ``svq_temp``)."""
        xf = stft(x)
        s_l = self.lf.vq(self.lf.encode(xf), svq_temp, generator).indices
        s_h = self.hf.vq(self.hf.encode(xf), svq_temp, generator).indices
        return s_l, s_h

    def decode_tokens(self, s_l: torch.Tensor, s_h: torch.Tensor) -> torch.Tensor:
        """``x̂ = D_l(e[s_l]) + D_h(e[s_h])`` of length ``cfg.length``."""
        length = self.cfg.length
        x_l = self.lf.decode(self.lf.vq.codes_to_z(s_l, self.lf.grid), self.n_bins, length)
        x_h = self.hf.decode(self.hf.vq.codes_to_z(s_h, self.hf.grid), self.n_bins, length)
        return x_l + x_h

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor, svq_temp: float | None = None,
                    generator: torch.Generator | None = None) -> torch.Tensor:
        """Encode, quantise (deterministically or by SVQ) and decode."""
        return self.decode_tokens(*self.tokens(x, svq_temp, generator))

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor | float]:
        """Stage-1 loss terms for a batch ``x (B, C, L)``; ``loss`` is their sum."""
        if x.shape[-1] != self.cfg.length or x.shape[1] != self.cfg.in_channels:
            raise ValueError(f"expected (B, {self.cfg.in_channels}, {self.cfg.length}), "
                             f"got {tuple(x.shape)}")
        xf = stft(x)
        x_l, x_h = split_bands(x)
        q_l = self.lf.vq(self.lf.encode(xf))
        q_h = self.hf.vq(self.hf.encode(xf))
        xh_l = self.lf.decode(q_l.z_q, self.n_bins, x.shape[-1])
        xh_h = self.hf.decode(q_h.z_q, self.n_bins, x.shape[-1])
        recon_l = F.mse_loss(xh_l, x_l)
        recon_h = F.l1_loss(xh_h, x_h)
        loss = recon_l + recon_h + q_l.commit_loss + q_h.commit_loss
        return {"loss": loss, "recon_l": recon_l.detach(), "recon_h": recon_h.detach(),
                "perplexity_l": q_l.perplexity, "perplexity_h": q_h.perplexity}
