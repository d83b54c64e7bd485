"""Metrics with explicit conventions (data range, clipping)."""

from freqbook.metrics.classification import accuracy, effective_rank, macro_f1, numerical_rank
from freqbook.metrics.image import pearson, psnr, psnr_from_mse, psnr_siren_convention

__all__ = [
    "accuracy",
    "effective_rank",
    "macro_f1",
    "numerical_rank",
    "pearson",
    "psnr",
    "psnr_from_mse",
    "psnr_siren_convention",
]
