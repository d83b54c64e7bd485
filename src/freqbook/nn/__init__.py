"""Building blocks: sine layers and SIREN init, encodings, coordinate MLPs, derivatives."""

from freqbook.nn.diff import divergence, gradient, laplacian
from freqbook.nn.encodings import PositionalEncoding, RBFLayer, nyquist_frequencies
from freqbook.nn.mlp import CoordinateMLP
from freqbook.nn.sine import SineLayer, arcsine_pdf, siren_init_

__all__ = [
    "CoordinateMLP",
    "PositionalEncoding",
    "RBFLayer",
    "SineLayer",
    "arcsine_pdf",
    "divergence",
    "gradient",
    "laplacian",
    "nyquist_frequencies",
    "siren_init_",
]
