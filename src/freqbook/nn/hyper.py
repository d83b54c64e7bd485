"""Hypernetworks that output SIREN weights (SIREN paper Sec. 4.4, "learning a space of implicit
functions"; official code ``meta_modules.HyperNetwork`` / ``NeuralProcessImplicit2DHypernet``).

Three pieces, composed by :class:`SetHyperSiren`:

* :class:`SetEncoder` - an MLP applied to every context pixel ``(x, y, value)`` and mean-pooled
  over the context set into one latent code ``z`` (the "set encoder" row of the paper's CelebA
  table; a conditional-neural-process style encoder). Official default (``meta_modules.py``
  ``NeuralProcessImplicit2DHypernet(encoder_nl='sine')``, line 58; ``modules.SetEncoder``,
  lines 300-320 at commit 4df34ba): ``sin(30 .)`` after every linear layer, the last included,
  and SIREN's hidden-layer initialisation ``U(+-sqrt(6/n)/30)`` on *all* its weights
  (``sine_init``, also on the first layer; biases keep PyTorch's default);
* :class:`HyperNetwork` - one small ReLU MLP per SIREN parameter tensor, mapping ``z`` to that
  tensor. Official (``meta_modules.py`` line 64: ``FCBlock(num_hidden_layers=1)``, which is an
  input layer, one hidden-to-hidden layer and a linear output, ``modules.py`` lines 65-80): two
  hidden ReLU layers, ``256 -> 256 -> 256 -> numel``;
* :func:`batched_siren` - a functional SIREN ``sin(omega_0 (W x + b))`` evaluated with a different
  set of weights per sample through ``torch.baddbmm``; its parameter names and shapes are those of
  :class:`freqbook.nn.CoordinateMLP` (``activation="sine"``), so the weights of such a model can
  be fed to it unchanged (see :func:`params_of`);
* :func:`sample_context` / :func:`nearest_fill` - random context sets padded for batching, and the
  nearest-context-pixel interpolation used as a baseline.

Initialisation of the hypernetwork's output layers (official ``hyper_weight_init`` /
``hyper_bias_init``): Kaiming-normal weights divided by 100, so the latent only perturbs the
generated SIREN weights at first; the output bias - i.e. the generated tensor at ``z = 0`` - is
``U(-1/n, 1/n)`` with ``n`` the fan-in of the SIREN layer for weight tensors (the SIREN
first-layer rule, applied by the official code to *every* layer), and ``U(-1/h, 1/h)`` with ``h``
the hypernetwork's hidden width for bias tensors.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch
from torch import nn


def siren_param_shapes(
    in_features: int, out_features: int, hidden_features: int, hidden_layers: int
) -> dict[str, tuple[int, ...]]:
    """Names and shapes of a SIREN's parameters, in the order of ``CoordinateMLP``.

    ``in -> hidden`` plus ``hidden_layers`` layers ``hidden -> hidden`` (all sine), then a linear
    head ``hidden -> out`` (paper Sec. 3; official ``SingleBVPNet`` with 3 hidden layers).
    """
    sizes = [in_features] + [hidden_features] * (hidden_layers + 1)
    shapes: dict[str, tuple[int, ...]] = {}
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        shapes[f"layers.{i}.linear.weight"] = (n_out, n_in)
        shapes[f"layers.{i}.linear.bias"] = (n_out,)
    shapes["head.weight"] = (out_features, hidden_features)
    shapes["head.bias"] = (out_features,)
    return shapes


def params_of(model: nn.Module) -> dict[str, torch.Tensor]:
    """The parameters of a ``CoordinateMLP(activation="sine")`` as a batch of one sample each."""
    return {name: p.detach().unsqueeze(0) for name, p in model.named_parameters()}


def batched_siren(
    params: Mapping[str, torch.Tensor],
    coords: torch.Tensor,
    *,
    first_omega_0: float = 30.0,
    hidden_omega_0: float = 30.0,
) -> torch.Tensor:
    """Evaluate one SIREN per sample: ``sin(omega_0 (W_b x + b_b))`` layers and a linear head.

    Parameters
    ----------
    params
        Tensors named as in :func:`siren_param_shapes`, each with a leading batch dimension:
        weights ``(B, out, in)``, biases ``(B, out)``.
    coords
        ``(N, in)`` coordinates shared by all samples, or ``(B, N, in)``.
    first_omega_0, hidden_omega_0
        Frequency factors of the first and the other sine layers (official: 30 everywhere).

    Returns
    -------
    torch.Tensor
        ``(B, N, out)``.
    """
    n_sine = sum(1 for k in params if k.startswith("layers.") and k.endswith(".weight"))
    batch = params["head.weight"].shape[0]
    h = coords.unsqueeze(0).expand(batch, -1, -1) if coords.dim() == 2 else coords
    for i in range(n_sine):
        w = params[f"layers.{i}.linear.weight"]
        b = params[f"layers.{i}.linear.bias"]
        omega = first_omega_0 if i == 0 else hidden_omega_0
        # omega (W h + b) for every sample at once; omega scales the small W and b rather than
        # the (B, N, out) phase (same maths, one pass over the activations fewer).
        h = torch.sin(torch.baddbmm(omega * b.unsqueeze(1), h, omega * w.transpose(1, 2)))
    return torch.baddbmm(params["head.bias"].unsqueeze(1), h, params["head.weight"].transpose(1, 2))


class Sine(nn.Module):
    """``sin(omega_0 x)`` as a module (the official ``Sine`` with its fixed factor 30)."""

    def __init__(self, omega_0: float = 30.0) -> None:
        super().__init__()
        self.omega_0 = float(omega_0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sin(self.omega_0 * x)


ENCODER_ACTIVATIONS = ("sine", "relu")


class SetEncoder(nn.Module):
    """Per-element MLP followed by a masked mean over the set (official ``SetEncoder``).

    Parameters
    ----------
    in_features
        Size of one set element (``2`` coordinates + channels for an image).
    latent_dim
        Size of the pooled code (official: 256).
    hidden_features, hidden_layers
        Width and number of hidden-to-hidden layers of the element MLP (official: 256 and 2).
        Every linear layer, the last included, is followed by the activation.
    activation
        ``"sine"`` (official default): ``sin(30 .)`` with weights ``U(+-sqrt(6/n)/30)`` on every
        layer (SIREN's hidden-layer rule, paper Sec. 3.2); ``"relu"``: ReLU with Kaiming-normal
        weights (the official ``nonlinearity='relu'`` option).
    """

    def __init__(
        self,
        in_features: int,
        latent_dim: int,
        hidden_features: int = 256,
        hidden_layers: int = 2,
        activation: str = "sine",
    ) -> None:
        super().__init__()
        if activation not in ENCODER_ACTIVATIONS:
            raise ValueError(f"activation must be one of {ENCODER_ACTIVATIONS}, got {activation!r}")
        self.activation = activation
        sizes = [in_features] + [hidden_features] * (hidden_layers + 1) + [latent_dim]
        layers: list[nn.Module] = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
            linear = nn.Linear(n_in, n_out)
            if activation == "sine":
                bound = math.sqrt(6.0 / n_in) / 30.0
                with torch.no_grad():
                    linear.weight.uniform_(-bound, bound)
                layers += [linear, Sine(30.0)]
            else:
                nn.init.kaiming_normal_(linear.weight, nonlinearity="relu", mode="fan_in")
                layers += [linear, nn.ReLU()]
        self.net = nn.Sequential(*layers)

    def forward(self, elements: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """``elements (B, K, in)`` and ``mask (B, K)`` (1 real, 0 padding) -> ``(B, latent)``."""
        emb = self.net(elements)
        if mask is None:
            return emb.mean(dim=1)
        m = mask.to(emb.dtype).unsqueeze(-1)
        return (emb * m).sum(dim=1) / m.sum(dim=1).clamp_min(1.0)


class HyperNetwork(nn.Module):
    """One ReLU MLP per target tensor: ``z -> hidden -> ... -> numel(tensor)``.

    Parameters
    ----------
    latent_dim
        Size of the input code ``z``.
    shapes
        Target tensor names and shapes (e.g. :func:`siren_param_shapes`).
    hidden_features, hidden_layers
        Width and number of hidden ReLU layers of each MLP (official: 256 and 2, i.e.
        ``latent -> 256 -> 256 -> numel``; the official ``FCBlock(num_hidden_layers=1)`` counts
        only the hidden-to-hidden layers).
    """

    def __init__(
        self,
        latent_dim: int,
        shapes: Mapping[str, tuple[int, ...]],
        hidden_features: int | None = None,
        hidden_layers: int = 2,
    ) -> None:
        super().__init__()
        hidden = hidden_features or latent_dim
        self.shapes = dict(shapes)
        self.nets = nn.ModuleDict()
        for name, shape in self.shapes.items():
            sizes = [latent_dim] + [hidden] * hidden_layers
            layers: list[nn.Module] = []
            for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
                linear = nn.Linear(n_in, n_out)
                nn.init.kaiming_normal_(linear.weight, nonlinearity="relu", mode="fan_in")
                layers += [linear, nn.ReLU()]
            last = nn.Linear(sizes[-1], math.prod(shape))
            self._init_output_(last, shape, is_weight=len(shape) > 1)
            layers.append(last)
            self.nets[self._key(name)] = nn.Sequential(*layers)

    @staticmethod
    def _key(name: str) -> str:
        return name.replace(".", "__")  # ModuleDict keys may not contain dots

    @staticmethod
    @torch.no_grad()
    def _init_output_(last: nn.Linear, shape: tuple[int, ...], *, is_weight: bool) -> None:
        """Official ``hyper_weight_init`` / ``hyper_bias_init`` (see the module docstring)."""
        nn.init.kaiming_normal_(last.weight, nonlinearity="relu", mode="fan_in")
        last.weight.div_(100.0)
        bound = 1.0 / (shape[-1] if is_weight else last.in_features)
        last.bias.uniform_(-bound, bound)

    def forward(self, z: torch.Tensor) -> dict[str, torch.Tensor]:
        """``z (B, latent)`` -> ``{name: (B, *shape)}``."""
        return {
            name: self.nets[self._key(name)](z).reshape(z.shape[0], *shape)
            for name, shape in self.shapes.items()
        }


class SetHyperSiren(nn.Module):
    """Set encoder -> hypernetwork -> SIREN: image completion from context pixels (Sec. 4.4).

    Parameters
    ----------
    channels
        Image channels (1 for grey, 3 for the paper's RGB CelebA).
    latent_dim
        Code size (official: 256); also the width of the encoder and of each hypernetwork MLP.
    hidden_features, hidden_layers
        SIREN width and number of hidden-to-hidden layers (official: 256 and 3).
    encoder_layers
        Hidden-to-hidden layers of the set encoder (official: 2).
    omega_0
        SIREN frequency factor for every layer (official: 30).
    encoder_activation
        Activation of the set encoder (official: ``"sine"``, see :class:`SetEncoder`).
    hyper_layers
        Hidden ReLU layers of each per-parameter hypernetwork MLP (official: 2).
    """

    def __init__(
        self,
        channels: int = 1,
        latent_dim: int = 256,
        hidden_features: int = 256,
        hidden_layers: int = 3,
        *,
        encoder_layers: int = 2,
        omega_0: float = 30.0,
        encoder_activation: str = "sine",
        hyper_layers: int = 2,
    ) -> None:
        super().__init__()
        self.omega_0 = float(omega_0)
        self.shapes = siren_param_shapes(2, channels, hidden_features, hidden_layers)
        self.encoder = SetEncoder(2 + channels, latent_dim, latent_dim, encoder_layers,
                                  encoder_activation)
        self.hyper = HyperNetwork(latent_dim, self.shapes, latent_dim, hyper_layers)

    def forward(
        self,
        ctx_coords: torch.Tensor,
        ctx_values: torch.Tensor,
        ctx_mask: torch.Tensor | None,
        query: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
        """Predict the signal at ``query`` from a (padded) context set.

        Parameters
        ----------
        ctx_coords, ctx_values
            ``(B, K, 2)`` coordinates and ``(B, K, C)`` values of the context pixels.
        ctx_mask
            ``(B, K)``: 1 for real context pixels, 0 for padding (``None``: all real).
        query
            ``(N, 2)`` or ``(B, N, 2)`` coordinates to predict.

        Returns
        -------
        tuple
            Prediction ``(B, N, C)``, latent ``z (B, latent)`` and the generated SIREN parameters.
        """
        z = self.encoder(torch.cat([ctx_coords, ctx_values], dim=-1), ctx_mask)
        params = self.hyper(z)
        pred = batched_siren(params, query, first_omega_0=self.omega_0, hidden_omega_0=self.omega_0)
        return pred, z, params


def hypernetwork_loss(
    pred: torch.Tensor,
    target: torch.Tensor,
    z: torch.Tensor,
    params: Mapping[str, torch.Tensor],
    *,
    latent_weight: float = 0.1,
    weight_weight: float = 100.0,
) -> tuple[torch.Tensor, dict[str, float]]:
    """Official ``image_hypernetwork_loss``: ``MSE + 0.1 mean(z^2) + 100 mean(theta^2)``.

    ``mean(theta^2)`` runs over every generated SIREN parameter of every sample (one mean over
    all of them, not a mean of per-tensor means). Returns the loss and its three terms as floats.
    """
    mse = torch.mean((pred - target) ** 2)
    latent = torch.mean(z**2)
    total = sum(p.numel() for p in params.values())
    theta = sum(torch.sum(p**2) for p in params.values()) / total
    loss = mse + latent_weight * latent + weight_weight * theta
    return loss, {"mse": float(mse.detach()), "latent": float(latent.detach()),
                  "theta": float(theta.detach())}


def sample_context(
    images: torch.Tensor, counts: torch.Tensor, coords: torch.Tensor, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Random context pixels without replacement, padded to the largest count of the batch.

    Parameters
    ----------
    images
        ``(B, P, C)`` pixel values; ``coords`` ``(P, 2)`` their coordinates.
    counts
        ``(B,)`` number of context pixels per image.

    Returns
    -------
    tuple
        ``ctx_coords (B, K, 2)``, ``ctx_values (B, K, C)``, ``mask (B, K)`` and the pixel
        indices ``(B, K)`` (``K = max(counts)``).
    """
    b, p, _ = images.shape
    k = int(counts.max())
    idx = torch.rand(b, p, generator=gen).argsort(dim=1)[:, :k].to(images.device)
    mask = (torch.arange(k, device=images.device)[None, :] < counts.to(images.device)[:, None])
    values = torch.gather(images, 1, idx[..., None].expand(-1, -1, images.shape[2]))
    return coords[idx], values, mask.to(images.dtype), idx


def nearest_fill(ctx_coords: torch.Tensor, ctx_values: torch.Tensor, mask: torch.Tensor,
                 query: torch.Tensor) -> torch.Tensor:
    """Value of the nearest real context pixel at every query coordinate ``(B, N, C)``."""
    d = torch.cdist(query.expand(ctx_coords.shape[0], -1, -1), ctx_coords)
    d = d.masked_fill(mask[:, None, :] == 0, float("inf"))
    nearest = d.argmin(dim=2)
    return torch.gather(ctx_values, 1, nearest[..., None].expand(-1, -1, ctx_values.shape[2]))
