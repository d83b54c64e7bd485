"""Coordinate MLPs: SIREN and the paper's baselines share one fully connected block.

Baseline initialisations follow the official SIREN code (``modules.nls_and_inits``):
ReLU -> Kaiming-normal (fan_in), tanh -> Xavier-normal; biases keep PyTorch's default. The WINNER
chapter's baselines FINER, WIRE and Gauss use the layers and initialisations of
:mod:`freqbook.nn.activations`.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from freqbook.nn.activations import FinerLayer, GaussLayer, RealPart, WireLayer
from freqbook.nn.sine import BiasInit, SineLayer, siren_init_

ACTIVATIONS = ("sine", "relu", "tanh", "finer", "wire", "gauss")
#: activations whose layers are modules of :mod:`freqbook.nn.activations` (own init and forward)
_LAYER_ACTIVATIONS = ("finer", "wire", "gauss")
#: default ``scale`` of the layers that have one (WIRE's envelope, Gauss's width)
_DEFAULT_SCALE = {"wire": 10.0, "gauss": 30.0}


def _init_relu_(linear: nn.Linear) -> None:
    nn.init.kaiming_normal_(linear.weight, a=0.0, nonlinearity="relu", mode="fan_in")


def _init_tanh_(linear: nn.Linear) -> None:
    nn.init.xavier_normal_(linear.weight)


class CoordinateMLP(nn.Module):
    """``encoding -> hidden_layers + 1`` activated layers of width ``hidden`` -> linear head.

    With ``activation="sine"`` this is SIREN (paper Sec. 3): ``in -> hidden`` plus
    ``hidden_layers`` layers ``hidden -> hidden``, each followed by ``sin(omega_0 .)``, and a
    linear head initialised like a hidden sine layer (official code).

    Parameters
    ----------
    in_features, out_features
        Coordinate and signal dimensions.
    hidden_features
        Width (256 in the paper).
    hidden_layers
        Number of ``hidden -> hidden`` layers (3 in the paper: 5 linear layers in all).
    activation
        ``"sine"``, ``"relu"``, ``"tanh"``, ``"finer"``, ``"wire"`` or ``"gauss"``.
    first_omega_0, hidden_omega_0
        SIREN frequency factors (30/30; 3000 for the first layer on audio); also FINER's
        ``omega_0`` and WIRE's wavelet frequency ``omega`` (10 in WIRE).
    scale
        WIRE's envelope ``s`` (default 10) or Gauss's ``s`` (default 30); unused otherwise.
    first_bias_scale
        FINER++'s first-layer bias range ``U(-k, k)``; ``None`` keeps PyTorch's default.
    encoding
        Optional input module (positional encoding, RBF layer) with an ``out_features`` attribute.
    bias_init
        SIREN bias initialisation, ``"torch"`` (official) or ``"zero"``.
    fused
        Use the fused sine kernel for plain fitting (automatically bypassed when the coordinates
        require grad, i.e. when derivatives of the output are taken).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        hidden_features: int = 256,
        hidden_layers: int = 3,
        *,
        activation: str = "sine",
        first_omega_0: float = 30.0,
        hidden_omega_0: float = 30.0,
        encoding: nn.Module | None = None,
        bias_init: BiasInit = "torch",
        fused: bool = True,
        scale: float | None = None,
        first_bias_scale: float | None = None,
    ) -> None:
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(
                f"unknown activation {activation!r}; valid: {', '.join(ACTIVATIONS)}"
            )
        self.activation = activation
        self.encoding = encoding if encoding is not None else nn.Identity()
        width_in = getattr(encoding, "out_features", in_features) if encoding else in_features
        sizes = [width_in] + [hidden_features] * (hidden_layers + 1)
        layers: list[nn.Module] = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            omega = first_omega_0 if i == 0 else hidden_omega_0
            if activation == "sine":
                layers.append(
                    SineLayer(n_in, n_out, omega, is_first=i == 0, bias_init=bias_init, fused=fused)
                )
            elif activation in _LAYER_ACTIVATIONS:
                layers.append(_make_layer(activation, n_in, n_out, omega, i == 0, scale,
                                          first_bias_scale))
            else:
                linear = nn.Linear(n_in, n_out)
                (_init_relu_ if activation == "relu" else _init_tanh_)(linear)
                layers.append(linear)
        self.layers = nn.ModuleList(layers)
        self.head: nn.Module = (
            RealPart(hidden_features, out_features) if activation == "wire"
            else nn.Linear(hidden_features, out_features)
        )
        if activation in ("sine", "finer"):  # FINER: head like a hidden SIREN layer (official)
            siren_init_(self.head, hidden_omega_0, bias_init=bias_init)
        elif activation in ("relu", "tanh"):
            (_init_relu_ if activation == "relu" else _init_tanh_)(self.head)
        self._act: Callable[[torch.Tensor], torch.Tensor] = (
            torch.relu if activation == "relu" else torch.tanh
        )

    def forward(self, coords: torch.Tensor) -> torch.Tensor:
        """Evaluate at ``coords`` of shape ``(N, in_features)``; returns ``(N, out_features)``."""
        # Derivatives w.r.t. the coordinates need a double backward: use plain autograd ops then.
        fused = not coords.requires_grad
        h = self.encoding(coords)
        for layer in self.layers:
            if self.activation == "sine":
                h = layer(h, fused=fused)
            elif self.activation in _LAYER_ACTIVATIONS:
                h = layer(h)
            else:
                h = self._act(layer(h))
        return self.head(h)

    def hidden_activations(self, coords: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """``(pre, post)`` activation pairs of every hidden layer (for Sec. 3.2 statistics)."""
        out = []
        h = self.encoding(coords)
        for layer in self.layers:
            if self.activation == "sine":
                pre = layer.pre_activation(h)
                h = torch.sin(pre)
            elif self.activation in _LAYER_ACTIVATIONS:
                pre, h = layer.pre_activation(h), layer(h)
            else:
                pre = layer(h)
                h = self._act(pre)
            out.append((pre, h))
        return out


def _make_layer(
    activation: str,
    n_in: int,
    n_out: int,
    omega: float,
    is_first: bool,
    scale: float | None,
    first_bias_scale: float | None,
) -> nn.Module:
    """One FINER / WIRE / Gauss layer (see :mod:`freqbook.nn.activations`)."""
    s = _DEFAULT_SCALE.get(activation) if scale is None else scale
    if activation == "finer":
        return FinerLayer(n_in, n_out, omega, is_first=is_first, first_bias_scale=first_bias_scale)
    if activation == "wire":
        return WireLayer(n_in, n_out, omega, float(s), is_first=is_first)
    return GaussLayer(n_in, n_out, float(s))
