"""Walk-through of the CBD decoder's units on a toy signal (paper Sec. 3, Eqs. 1-14).

No training: the record holds the numerical identities the chapter relies on and the arrays the
notebook plots.

* CIM: the frequency-domain product ``M * Z_F`` equals a circular convolution along tokens with
  the content-dependent kernel ``irfft(M)`` (max abs deviation);
* SER: flat at initialisation (``W_c = 0, b_c = 1``: max ``|p_K - 1|``); the Bernstein basis; a
  hand-set gate that boosts weak bins, applied to the toy spectrum; where softmax-normalised
  energies fall (near ``1 / S``, spec pitfall P3);
* loss: with ``norm="ortho"`` the whole-series frequency loss equals the whole-series time loss
  (Parseval, pitfall P1); with the default FFT it is ``L`` times larger (P2); on masked patches
  the time loss is a different quantity.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np
import torch
import xarray as xr

from freqbook.data.masking import random_token_mask, time_mask
from freqbook.experiments.cbd import common
from freqbook.models.cbd import freq_mse, time_mse
from freqbook.nn.cbd_blocks import CIM, SER, bernstein_basis
from freqbook.profiles import config_for as _config_for
from freqbook.train import seed_everything


@dataclass(frozen=True)
class MethodConfig:
    """Toy sizes: ``tokens`` T, hidden width, Bernstein order, series length for the loss."""

    tokens: int = 32
    d_model: int = 16
    order: int = 12
    length: int = 256
    seeds: tuple[int, ...] = (0,)


PROFILES = {"smoke": MethodConfig(), "cpu": MethodConfig(), "paper": MethodConfig()}


#: ``config_for(profile, seed=0)``: the profile's config (identical for every profile: nothing
#: here is trained), its seed set to ``seed``
config_for = partial(_config_for, PROFILES)


def toy_tokens(tokens: int, d_model: int, seed: int) -> torch.Tensor:
    """``(1, T, D)``: per channel a strong slow sine, a weak fast one and a little noise."""
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(tokens, dtype=torch.float64)
    slow = torch.sin(2 * np.pi * 2 * t / tokens)
    fast = 0.15 * torch.sin(2 * np.pi * 11 * t / tokens)
    phase = torch.rand(d_model, generator=g, dtype=torch.float64)
    z = slow[:, None] * (1 + phase) + fast[:, None] * (2 - phase)
    return (z + 0.05 * torch.randn(tokens, d_model, generator=g, dtype=torch.float64))[None]


def _circular_conv(z: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    out = torch.zeros_like(z)
    for s in range(z.shape[1]):
        out += kernel[:, s : s + 1] * torch.roll(z, shifts=s, dims=1)
    return out


def run(cfg: MethodConfig, *, progress: bool | None = None) -> xr.Dataset:
    """Compute the identities and the toy arrays; returns the record."""
    seed = cfg.seeds[0]
    seed_everything(seed)
    z = toy_tokens(cfg.tokens, cfg.d_model, seed)
    zf = torch.fft.rfft(z, dim=1)
    cim = CIM(cfg.d_model).double()
    with torch.no_grad():
        m = cim.modulation(zf)
        via_fft = torch.fft.irfft(m * zf, n=cfg.tokens, dim=1)
        conv_err = float((via_fft - _circular_conv(z, torch.fft.irfft(m, n=cfg.tokens, dim=1))
                          ).abs().max())
        s = zf.shape[1]
        ser = SER(s, cfg.order).double()
        ident_err = float((ser(zf) - zf).abs().max())
        # a hand-set gate: coefficients falling with k -> gain > 1 where normalised energy is low
        ser_max = SER(s, cfg.order, norm="max").double()
        ser_max.gate.bias.copy_(torch.linspace(3.0, 0.5, cfg.order + 1, dtype=torch.float64))
        balanced = ser_max(zf)
        a_soft = ser.normalised_energy(zf)
        a_max = ser_max.normalised_energy(zf)
        grid = torch.linspace(0, 1, 101, dtype=torch.float64)
        basis = bernstein_basis(grid, cfg.order)
        hand_curve = basis @ ser_max.gate.bias
        # loss identities on random series
        x = torch.randn(8, 3, cfg.length, dtype=torch.float64)
        xh = x + 0.3 * torch.randn_like(x)
        ortho, plain = freq_mse(xh, x, "ortho"), freq_mse(xh, x, "backward")
        whole = time_mse(xh, x)
        # a typical masked reconstruction: large errors on hidden patches, small on visible ones
        gen = torch.Generator().manual_seed(0)
        region = time_mask(random_token_mask(8, cfg.length // 8, 0.75, generator=gen).masked, 8,
                           cfg.length)
        scale = torch.where(region, 0.5, 0.1)[:, None, :].to(torch.float64)
        xm = x + scale * torch.randn(x.shape, generator=gen, dtype=torch.float64)
        masked = time_mse(xm, x, region)
        ortho_m = freq_mse(xm, x, "ortho")
    e_in = (zf.abs() ** 2).mean(dim=(0, 2)).numpy()
    e_out = (balanced.abs() ** 2).mean(dim=(0, 2)).numpy()
    return xr.Dataset(
        {
            "cim_conv_error": ((), conv_err, {"long_name": "max |FFT product - circular conv|"}),
            "ser_identity_error": ((), ident_err, {"long_name": "max |SER(Z) - Z| at init"}),
            "parseval_ratio": ((), float(ortho / whole),
                               {"long_name": "ortho frequency MSE / whole-series time MSE"}),
            "unnormalised_ratio": ((), float(plain / whole),
                                   {"long_name": "default-FFT frequency MSE / time MSE"}),
            "masked_ratio": ((), float(ortho_m / masked),
                             {"long_name": "frequency MSE / masked-patch time MSE"}),
            "parseval_dev": ((), abs(float(ortho / whole) - 1.0)),
            "tokens": (("token", "channel"), z[0].numpy()),
            "energy_in": (("freq",), e_in),
            "energy_balanced": (("freq",), e_out),
            "energy_softmax": (("freq",), a_soft.mean(dim=(0, 2)).numpy()),
            "energy_max": (("freq",), a_max.mean(dim=(0, 2)).numpy()),
            "basis": (("w", "k"), basis.numpy()),
            "hand_curve": (("w",), hand_curve.numpy()),
            "modulation_abs": (("freq", "channel"), m[0].abs().numpy()),
        },
        coords={"token": np.arange(cfg.tokens), "channel": np.arange(cfg.d_model),
                "freq": np.arange(s), "w": grid.numpy(), "k": np.arange(cfg.order + 1)},
        attrs={"length": cfg.length},
    )


def run_and_record(cfg: MethodConfig, profile: str, *, progress: bool | None = None):
    """:func:`run` and save the record ``cbd/method``; returns ``(ds, path)``."""
    return common.record(run, cfg, profile, "method", [], progress=progress)
