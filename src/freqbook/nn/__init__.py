"""Building blocks: sine layers and SIREN init, encodings, coordinate MLPs, derivatives, and the
FINER / WIRE / Gauss layers of the WINNER chapter's baselines."""

from freqbook.nn.activations import FinerLayer, GaussLayer, WireLayer
from freqbook.nn.diff import divergence, gradient, laplacian
from freqbook.nn.encodings import PositionalEncoding, RBFLayer, nyquist_frequencies
from freqbook.nn.mlp import CoordinateMLP
from freqbook.nn.sine import SineLayer, arcsine_pdf, siren_init_

__all__ = [
    "CoordinateMLP",
    "FinerLayer",
    "GaussLayer",
    "PositionalEncoding",
    "RBFLayer",
    "SineLayer",
    "WireLayer",
    "arcsine_pdf",
    "divergence",
    "gradient",
    "laplacian",
    "nyquist_frequencies",
    "siren_init_",
]
