"""WINNER / SIREN^2: a SIREN whose first two weight matrices carry target-aware Gaussian noise.

H. Chandravamsi, D. V. Shenoy, S. H. Frankel, *Improving Accuracy and Efficiency of Implicit
Neural Representations: Making SIREN a WINNER*, arXiv:2509.12980 (companion long paper
arXiv:2509.09719, *Spectral Bottleneck in Sinusoidal Representation Networks: Noise is All You
Need*). Formulas as the official code implements them (``hemanthgrylls/SIREN-square`` at
``c3a60f5``, ``modules/networks.py``), summarised in ``papers/winner.md`` Sec. 2:

1. **Spectral centroid** of the target (:func:`spectral_centroid`, spec Sec. 2.5): per channel
   ``c`` the amplitude spectrum ``|rfft(x_c)|`` over the bin frequencies ``f`` in cycles per sample
   (0 ... 0.5) gives ``sum(f |X|) / sum(|X|)``; 2-D data take it per row (rFFT along axis 1) and
   average the rows, 3-D data along the last spatial axis. The function returns
   ``psi = 2 mean_c(centroid_c) / C``: a single channel lies in [0, 1] (1 = Nyquist); the division
   by the channel count ``C`` is the code's.
2. **Noise scales** (:func:`noise_scales`, paper Sec. 3): ``s0 = s0_max (1 - exp(-a psi / C))``,
   ``s1 = b psi / C``, again divided by ``C`` (the code divides twice). Hyper-parameters
   ``[s0_max, a, b]``: audio ``[3500, 7, 3]`` in the code, ``[3500, 5, 3]`` in the paper (per the
   seed summary); images ``[50, 5, 0.4]`` in both (:data:`SCHEDULES`).
3. **Perturbation** (:func:`perturb_`, spec Sec. 2.3): after SIREN's uniform initialisation,
   ``W_0 += N(0, (s0 / omega_0)^2)`` and ``W_1 += N(0, (s1 / omega_0)^2)`` with ``omega_0`` the
   *hidden* frequency factor (30) for both matrices; biases and later layers are untouched. With a
   first-layer factor of 30 as well (the code's SIREN^2), the first layer's angular frequencies per
   unit coordinate are ``30 U(-1, 1) + N(0, s0^2)``.
4. **Why it helps** (paper Sec. 3, spec Sec. 2.4): the layer-2 pre-activation
   ``z = omega_0 sum_k (W_jk + eta_jk) h_k`` with ``h_k`` arcsine-distributed has
   ``Var z = 1 + d s1^2 / 2`` for width ``d`` (:func:`preactivation_std`), plus ``omega_0^2/(3d)``
   from PyTorch's default biases, which the code keeps.

:func:`build_winner` builds the network with the book's :class:`~freqbook.nn.CoordinateMLP`
(through :func:`~freqbook.models.siren.build_model`) and perturbs it: there is no separate SIREN.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from freqbook.models.siren import build_model


@dataclass(frozen=True)
class NoiseSchedule:
    """``s0 = s0_max (1 - exp(-a psi / C))``, ``s1 = b psi / C`` (paper Sec. 3)."""

    s0_max: float
    a: float
    b: float


#: per-modality hyper-parameters; ``audio`` is the official code's (a = 7), ``audio_paper`` the
#: paper's a = 5 (seed summary), ``image`` agrees between code and paper
SCHEDULES: dict[str, NoiseSchedule] = {
    "audio": NoiseSchedule(3500.0, 7.0, 3.0),
    "audio_paper": NoiseSchedule(3500.0, 5.0, 3.0),
    "image": NoiseSchedule(50.0, 5.0, 0.4),
}


def _centroid_1d(x: np.ndarray, axis: int) -> np.ndarray:
    """``sum(f |X|) / sum(|X|)`` of the rFFT along ``axis``, ``f`` in cycles per sample."""
    spectrum = np.abs(np.fft.rfft(x, axis=axis))
    freqs = np.fft.rfftfreq(x.shape[axis], d=1.0)
    shape = [1] * x.ndim
    shape[axis] = freqs.size
    num = np.sum(spectrum * freqs.reshape(shape), axis=axis)
    den = np.sum(spectrum, axis=axis)
    return num / den


def spectral_centroid(x: np.ndarray, *, divide_by_channels: bool = True) -> float:
    """Normalised spectral centroid ``psi`` of a signal whose **last axis is channels**.

    Parameters
    ----------
    x
        ``(N, C)`` samples (1-D branch), ``(H, W, C)`` (2-D branch: one centroid per row, rFFT
        along ``W``, mean over rows) or ``(D, H, W, C)`` (3-D branch: rFFT along ``W``, mean).
    divide_by_channels
        ``True`` (official code): return ``2 mean_c(centroid_c) / C``; ``False``:
        ``2 mean_c(centroid_c)`` (used by the double-division ablation).

    Returns
    -------
    float
        ``psi``; for one channel in [0, 1], 1 meaning all energy at the Nyquist frequency.

    Raises
    ------
    ValueError
        For an input with fewer than two or more than four axes, or a silent channel.
    """
    x = np.asarray(x, dtype=np.float64)
    if not 2 <= x.ndim <= 4:
        raise ValueError(
            f"spectral_centroid expects (N, C), (H, W, C) or (D, H, W, C), got shape {x.shape}"
        )
    n_ch = x.shape[-1]
    per_channel = []
    for c in range(n_ch):
        data = x[..., c]
        value = _centroid_1d(data, axis=data.ndim - 1)
        if not np.all(np.isfinite(value)):
            raise ValueError(f"channel {c} is silent: its spectral centroid is undefined")
        per_channel.append(float(np.mean(value)))
    psi = 2.0 * float(np.mean(per_channel))
    return psi / n_ch if divide_by_channels else psi


def image_centroid(image: np.ndarray, mode: str = "flat") -> float:
    """``psi`` of an ``(H, W)`` or ``(H, W, C)`` image, as the code computes it or per row.

    Parameters
    ----------
    image
        Pixel values (any affine scaling gives the same centroid, except for the DC bin weight).
    mode
        ``"flat"`` (official ``learn_images.py``): the ``(H W, C)`` raster goes through the 1-D
        branch, i.e. one spectrum of the row-major flattened image; ``"rows"``: the ``(H, W, C)``
        image goes through the 2-D branch (centroid per row, averaged).
    """
    img = np.asarray(image, dtype=np.float64)
    if img.ndim == 2:
        img = img[..., None]
    if img.ndim != 3:
        raise ValueError(f"expected an (H, W) or (H, W, C) image, got shape {image.shape}")
    if mode == "flat":
        return spectral_centroid(img.reshape(-1, img.shape[-1]))
    if mode == "rows":
        return spectral_centroid(img)
    raise ValueError(f"unknown centroid mode {mode!r}; valid: flat, rows")


def noise_scales(
    psi: float,
    n_channels: int = 1,
    schedule: NoiseSchedule | str = "audio",
) -> tuple[float, float]:
    """Noise standard deviations ``(s0, s1)`` from the centroid ``psi`` (paper Sec. 3).

    ``s0 = s0_max (1 - exp(-a psi / C))`` and ``s1 = b psi / C`` with ``C = n_channels``; the
    official ``set_noise_scales`` divides by ``C`` although :func:`spectral_centroid` already did.
    Pass ``n_channels=1`` to divide only once.
    """
    if isinstance(schedule, str) and schedule not in SCHEDULES:
        raise ValueError(f"unknown schedule {schedule!r}; valid: {', '.join(SCHEDULES)}")
    sched = SCHEDULES[schedule] if isinstance(schedule, str) else schedule
    ratio = float(psi) / int(n_channels)
    return sched.s0_max * (1.0 - math.exp(-sched.a * ratio)), sched.b * ratio


def _weights(model: nn.Module) -> list[torch.Tensor]:
    """The weight matrices of a :class:`~freqbook.nn.CoordinateMLP`, input side first."""
    layers = getattr(model, "layers", None)
    if layers is None or len(layers) < 2:
        raise ValueError("perturb_ needs a CoordinateMLP with at least two activated layers")
    return [layer.linear.weight for layer in layers]


@torch.no_grad()
def perturb_(
    model: nn.Module,
    s0: float,
    s1: float,
    omega_0: float = 30.0,
    generator: torch.Generator | None = None,
) -> nn.Module:
    """Add ``N(0, (s0/omega_0)^2)`` to ``W_0`` and ``N(0, (s1/omega_0)^2)`` to ``W_1`` in place.

    Parameters
    ----------
    model
        A SIREN built by :func:`~freqbook.models.siren.build_model` (``CoordinateMLP``).
    s0, s1
        Noise scales (:func:`noise_scales`).
    omega_0
        The divisor, the *hidden* frequency factor in the official code (30) for both layers.
    generator
        Torch generator; ``None`` draws from the global one after the base initialisation, as the
        official code does (so a seeded SIREN^2 = the same seed's SIREN + noise).
    """
    w0, w1 = _weights(model)[:2]
    for w, s in ((w0, s0), (w1, s1)):
        if s:
            w.add_(torch.randn(w.shape, generator=generator, dtype=w.dtype) * (s / omega_0))
    return model


def build_winner(
    in_features: int,
    out_features: int,
    *,
    s0: float,
    s1: float,
    hidden_features: int = 222,
    hidden_layers: int = 3,
    first_omega_0: float = 30.0,
    hidden_omega_0: float = 30.0,
    noise_divisor: float | None = None,
) -> nn.Module:
    """SIREN^2: a SIREN (``build_model("siren", ...)``) plus :func:`perturb_`.

    Defaults are the audio network of ``learn_audios.py``: 4 sine layers (``hidden_layers=3``
    hidden-to-hidden layers after the first) of width 222, ``omega_0 = 30`` everywhere;
    ``noise_divisor`` defaults to ``hidden_omega_0`` (the code).
    """
    model = build_model(
        "siren", in_features, out_features, hidden_features=hidden_features,
        hidden_layers=hidden_layers, first_omega_0=first_omega_0, hidden_omega_0=hidden_omega_0,
    )
    divisor = hidden_omega_0 if noise_divisor is None else noise_divisor
    return perturb_(model, s0, s1, omega_0=divisor)


def preactivation_std(width: int, s: float, omega_0: float = 30.0, bias: bool = False) -> float:
    """Analytic std of a layer-2 pre-activation: ``sqrt(1 + d s^2 / 2)`` (paper Sec. 3).

    With ``bias=True`` adds the variance ``omega_0^2 / (3 d)`` of PyTorch's default bias
    ``U(+-1/sqrt(d))`` multiplied by ``omega_0`` (kept by the code; spec Sec. 2.4 caveat).
    """
    var = 1.0 + width * s**2 / 2.0
    if bias:
        var += omega_0**2 / (3.0 * width)
    return math.sqrt(var)
