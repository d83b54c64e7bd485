"""Metrics with explicit conventions (data range, clipping)."""

from freqbook.metrics.image import pearson, psnr, psnr_from_mse, psnr_siren_convention

__all__ = ["pearson", "psnr", "psnr_from_mse", "psnr_siren_convention"]
