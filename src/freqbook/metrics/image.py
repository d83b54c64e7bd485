"""Image/signal metrics with the conventions spelled out.

SIREN's convention (official ``utils.write_psnr``): signals live in [-1, 1]; prediction and
target are mapped to [0, 1] by ``x/2 + 0.5``, the prediction is clipped to [0, 1], and PSNR is
``10 log10(1 / MSE)`` with ``data_range = 1``. WINNER's code uses peak 1 on the [-1, 1] scale
without clipping, which reads 6.02 dB lower for the same fit - never mix the two.
"""

from __future__ import annotations

import numpy as np
import torch

ArrayLike = np.ndarray | torch.Tensor


def _to_numpy(a: ArrayLike) -> np.ndarray:
    if isinstance(a, torch.Tensor):
        return a.detach().cpu().double().numpy()
    return np.asarray(a, dtype=np.float64)


def psnr(prediction: ArrayLike, target: ArrayLike, *, data_range: float) -> float:
    """Peak signal-to-noise ratio ``10 log10(data_range^2 / MSE)`` in dB.

    ``data_range`` is required (no guessing from the data, unlike some libraries). Returns
    ``inf`` for a perfect fit.
    """
    p, t = _to_numpy(prediction), _to_numpy(target)
    if p.shape != t.shape:
        raise ValueError(f"shape mismatch: prediction {p.shape} vs target {t.shape}")
    mse = float(np.mean((p - t) ** 2))
    if mse == 0.0:
        return float("inf")
    return float(10.0 * np.log10(data_range**2 / mse))


def psnr_siren_convention(prediction: ArrayLike, target: ArrayLike) -> float:
    """PSNR of [-1, 1] signals as SIREN reports it: map to [0, 1], clip the prediction, range 1."""
    p = np.clip(_to_numpy(prediction) / 2.0 + 0.5, 0.0, 1.0)
    t = _to_numpy(target) / 2.0 + 0.5
    return psnr(p, t, data_range=1.0)


def psnr_from_mse(mse: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """Vectorised PSNR from MSE values (no clipping): ``10 log10(range^2 / mse)``."""
    return 10.0 * torch.log10(data_range**2 / mse)


def pearson(a: ArrayLike, b: ArrayLike) -> float:
    """Pearson correlation of two arrays (flattened); 0.0 when either is constant."""
    x, y = _to_numpy(a).ravel(), _to_numpy(b).ravel()
    if np.ptp(x) == 0.0 or np.ptp(y) == 0.0:  # constant input: centring leaves only rounding
        return 0.0
    x = x - x.mean()
    y = y - y.mean()
    denom = float(np.sqrt((x * x).sum() * (y * y).sum()))
    if denom == 0.0 or not np.isfinite(denom):
        return 0.0
    return float((x * y).sum() / denom)
