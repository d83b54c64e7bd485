"""SIREN and the baselines of its image-fitting comparison (paper Fig. 1, Sec. 4.1).

:func:`build_model` returns one of ``siren``, ``relu``, ``tanh``, ``relu_pe`` (ReLU on a NeRF
positional encoding with the Nyquist rule of the official code) or ``rbf_relu`` (ReLU on 1024
trainable Gaussian RBF features), all with the paper's 5-linear-layer shape by default. It also
builds the later baselines of the WINNER chapter, ``finer``, ``wire`` and ``gauss``
(:data:`EXTRA_MODEL_NAMES`, layers in :mod:`freqbook.nn.activations`), which are not part of
SIREN's own comparison and so not in :data:`MODEL_NAMES`.
"""

from __future__ import annotations

from torch import nn

from freqbook.nn import CoordinateMLP, PositionalEncoding, RBFLayer, nyquist_frequencies

MODEL_NAMES = ("siren", "relu", "tanh", "relu_pe", "rbf_relu")
#: baselines of later papers built by :func:`build_model` (FINER, WIRE, Gauss)
EXTRA_MODEL_NAMES = ("finer", "wire", "gauss")
MODEL_LABELS = {
    "siren": "SIREN",
    "relu": "ReLU",
    "tanh": "tanh",
    "relu_pe": "ReLU + P.E.",
    "rbf_relu": "RBF-ReLU",
    "finer": "FINER",
    "wire": "WIRE",
    "gauss": "Gauss",
}


def build_model(
    name: str,
    in_features: int,
    out_features: int,
    *,
    hidden_features: int = 256,
    hidden_layers: int = 3,
    samples_per_axis: int = 256,
    first_omega_0: float = 30.0,
    hidden_omega_0: float = 30.0,
    rbf_centres: int = 1024,
    pe_frequencies: int | None = None,
    scale: float | None = None,
) -> nn.Module:
    """Build a coordinate network by name.

    Parameters
    ----------
    name
        One of :data:`MODEL_NAMES`.
    samples_per_axis
        Signal resolution, used by the P.E. Nyquist rule ``L = floor(log2(samples / 4))``.
    pe_frequencies
        Override the number of P.E. octaves.
    scale
        WIRE's envelope (default 10) or Gauss's width (default 30). For ``wire`` the frequency
        is ``first_omega_0``/``hidden_omega_0`` as passed (WIRE's own value is 10); for
        ``finer`` they are FINER's ``omega_0`` (30).
    """
    common = dict(hidden_features=hidden_features, hidden_layers=hidden_layers)
    if name == "siren":
        return CoordinateMLP(
            in_features,
            out_features,
            activation="sine",
            first_omega_0=first_omega_0,
            hidden_omega_0=hidden_omega_0,
            **common,
        )
    if name in ("relu", "tanh"):
        return CoordinateMLP(in_features, out_features, activation=name, **common)
    if name == "relu_pe":
        octaves = (
            nyquist_frequencies(samples_per_axis) if pe_frequencies is None else pe_frequencies
        )
        enc = PositionalEncoding(in_features, octaves)
        return CoordinateMLP(in_features, out_features, activation="relu", encoding=enc, **common)
    if name == "rbf_relu":
        enc = RBFLayer(in_features, rbf_centres)
        return CoordinateMLP(in_features, out_features, activation="relu", encoding=enc, **common)
    if name in EXTRA_MODEL_NAMES:
        return CoordinateMLP(
            in_features,
            out_features,
            activation=name,
            first_omega_0=first_omega_0,
            hidden_omega_0=hidden_omega_0,
            scale=scale,
            **common,
        )
    valid = ", ".join(MODEL_NAMES + EXTRA_MODEL_NAMES)
    raise ValueError(f"unknown model {name!r}; valid: {valid}")
