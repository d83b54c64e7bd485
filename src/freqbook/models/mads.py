"""MADS: modulated auto-decoding SIREN for time-series imputation (arXiv 2307.00868).

The paper's text could not be read here; this module implements the project's specification
(``papers/mads.md`` section 2), every unstated detail being a labelled resolution [R]:

* a **latent table**: one code ``z_i`` per training series, optimised with the networks (DeepSDF
  auto-decoding, no encoder), initialised ``N(0, 1/k)`` (spec 2.2 item 1);
* a **hypernetwork** (:class:`freqbook.nn.hyper.HyperNetwork`): one ReLU MLP per SIREN tensor,
  so every series gets its own SIREN ``t -> R^D`` (spec 2.2 item 2, full prediction);
* the **SIREN** ``h_l = alpha_l * sin(omega_0 (W_l h_{l-1} + b_l))``, linear head, evaluated for a
  whole batch of series at once with ``torch.baddbmm`` (no Python loop over series; 2.2 item 3);
* the **modulator** (2.2 items 4-5): a ReLU MLP whose layer ``l`` outputs the non-negative
  amplitudes ``alpha_l`` of sine layer ``l``; ``per_series`` (the paper's *base*, fed ``z_i``),
  ``shared`` (the paper's *fixed*, fed one learnable code for the whole dataset) or ``none``
  (HyperTime-like ablation, ``alpha = 1``);
* the objective (2.3): per-series masked MSE on the *input-observed* entries, averaged over the
  batch, ``+ lambda_z mean(z^2) + lambda_w mean(theta^2)``;
* auto-decoding inference (2.4): networks frozen, fresh codes from ``z = 0`` optimised on the
  observed entries of unseen series only.

Values at unobserved entries never reach a loss: they are replaced with ``torch.where`` before the
error is formed, so even NaN or huge values there leave the loss and its gradients unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import nn

from freqbook.nn.hyper import HyperNetwork, siren_param_shapes
from freqbook.train import History, fit

MODULATORS = ("per_series", "shared", "none")
#: the paper's names (seed summary) -> ours (spec section 7 item 2)
MODULATOR_ALIASES = {"base": "per_series", "fixed": "shared", "per-series": "per_series"}


def modulator_name(name: str) -> str:
    """Canonical modulator name; accepts the paper's ``base`` / ``fixed`` too."""
    name = MODULATOR_ALIASES.get(name, name)
    if name not in MODULATORS:
        valid = ", ".join(MODULATORS + tuple(MODULATOR_ALIASES))
        raise ValueError(f"unknown modulator {name!r}; valid: {valid}")
    return name


@dataclass(frozen=True)
class MADSConfig:
    """Architecture and loss weights of MADS (spec 2.2-2.3; paper scale in the defaults).

    Attributes
    ----------
    latent_dim
        Code size ``k`` (spec: 128 paper scale, 64 smoke).
    width, sine_layers
        SIREN width and number of sine layers ``L`` (spec: 128 and 3).
    hyper_hidden
        Hidden width of each hypernetwork MLP (one hidden layer; spec: 256).
    omega_0
        Frequency factor of every sine layer (spec: 30).
    modulator
        ``per_series`` (*base*), ``shared`` (*fixed*) or ``none``.
    hidden_init
        ``"hyper"``: predicted weights start near ``U(-1/n, 1/n)`` in every layer (the official
        SIREN hypernetwork convention); ``"siren"``: hidden weights start near the SIREN hidden
        init ``U(-sqrt(6/n)/omega_0, ...)`` (spec section 7 item 17).
    lambda_z, lambda_w
        Weights of ``mean(z^2)`` and ``mean(theta^2)``.
    """

    latent_dim: int = 128
    width: int = 128
    sine_layers: int = 3
    hyper_hidden: int = 256
    omega_0: float = 30.0
    modulator: str = "per_series"
    hidden_init: str = "hyper"
    lambda_z: float = 1e-4
    lambda_w: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "modulator", modulator_name(self.modulator))
        if self.hidden_init not in ("hyper", "siren"):
            raise ValueError(f"hidden_init must be 'hyper' or 'siren', got {self.hidden_init!r}")
        if min(self.latent_dim, self.width, self.sine_layers, self.hyper_hidden) < 1:
            raise ValueError("latent_dim, width, sine_layers and hyper_hidden must be >= 1")


class Modulator(nn.Module):
    """Amplitudes ``alpha_l >= 0`` of each sine layer from a code (Mehta et al. 2021 design).

    Layer 1 reads ``z``; layer ``l > 1`` reads ``concat(alpha_{l-1}, z)``; each is Linear -> ReLU
    with output width = SIREN width (spec 2.2 item 4).
    """

    def __init__(self, latent_dim: int, width: int, layers: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            nn.Linear(latent_dim if i == 0 else latent_dim + width, width) for i in range(layers)
        )

    def forward(self, z: torch.Tensor) -> list[torch.Tensor]:
        """``z (B, k)`` -> list of ``L`` tensors ``(B, width)``."""
        out: list[torch.Tensor] = []
        h = z
        for i, layer in enumerate(self.layers):
            h = torch.relu(layer(h if i == 0 else torch.cat([h, z], dim=-1)))
            out.append(h)
        return out


def modulated_siren(
    params: Mapping[str, torch.Tensor],
    t: torch.Tensor,
    alphas: list[torch.Tensor] | None,
    omega_0: float,
) -> torch.Tensor:
    """One SIREN per series with amplitude modulation, all series in one ``baddbmm`` per layer.

    Parameters
    ----------
    params
        Tensors named as in :func:`freqbook.nn.hyper.siren_param_shapes`, batch first.
    t
        ``(B, T)`` or ``(B, T, 1)`` times of each series (scaled to about ``[-1, 1]``).
    alphas
        Per-layer amplitudes ``(B, width)`` or ``None`` (no modulator).
    omega_0
        Frequency factor of every sine layer.

    Returns
    -------
    torch.Tensor
        ``(B, T, D)``.
    """
    h = t.unsqueeze(-1) if t.dim() == 2 else t
    n_sine = sum(1 for k in params if k.startswith("layers.") and k.endswith(".weight"))
    for i in range(n_sine):
        w = params[f"layers.{i}.linear.weight"]
        b = params[f"layers.{i}.linear.bias"]
        h = torch.sin(torch.baddbmm(omega_0 * b.unsqueeze(1), h, omega_0 * w.transpose(1, 2)))
        if alphas is not None:
            h = h * alphas[i].unsqueeze(1)
    return torch.baddbmm(params["head.bias"].unsqueeze(1), h, params["head.weight"].transpose(1, 2))


class MADS(nn.Module):
    """Latent table + hypernetwork + (optional) modulator + batched SIREN.

    Parameters
    ----------
    n_series
        Number of training series (rows of the latent table).
    channels
        Number of features ``D`` of each series (one SIREN with ``D`` outputs).
    cfg
        Architecture and loss weights.
    """

    def __init__(self, n_series: int, channels: int, cfg: MADSConfig | None = None) -> None:
        super().__init__()
        self.cfg = cfg or MADSConfig()
        c = self.cfg
        self.channels = channels
        self.latents = nn.Parameter(torch.randn(n_series, c.latent_dim) / math.sqrt(c.latent_dim))
        self.shapes = siren_param_shapes(1, channels, c.width, c.sine_layers - 1)
        self.hyper = HyperNetwork(c.latent_dim, self.shapes, c.hyper_hidden, 1)
        if c.hidden_init == "siren":
            self._siren_hidden_init_()
        self.modulator = (
            Modulator(c.latent_dim, c.width, c.sine_layers) if c.modulator != "none" else None
        )
        self.shared_code = (
            nn.Parameter(torch.randn(c.latent_dim) / math.sqrt(c.latent_dim))
            if c.modulator == "shared" else None
        )

    @torch.no_grad()
    def _siren_hidden_init_(self) -> None:
        """Hidden-layer heads start at the SIREN hidden init (spec section 7 item 17)."""
        for name, shape in self.shapes.items():
            if name.startswith("layers.") and name.endswith(".weight") and not name.startswith(
                "layers.0."
            ):
                bound = math.sqrt(6.0 / shape[1]) / self.cfg.omega_0
                self.hyper.nets[self.hyper._key(name)][-1].bias.uniform_(-bound, bound)

    def network_parameters(self) -> list[nn.Parameter]:
        """Parameters of the shared networks (everything but the latent table)."""
        return [p for n, p in self.named_parameters() if n != "latents"]

    def forward(
        self, z: torch.Tensor, t: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Predict every series at its own time stamps.

        Parameters
        ----------
        z
            ``(B, k)`` codes.
        t
            ``(B, T)`` times.

        Returns
        -------
        tuple
            Predictions ``(B, T, D)`` and the generated SIREN parameters ``{name: (B, *shape)}``.
        """
        params = self.hyper(z)
        alphas = None
        if self.modulator is not None:
            code = z if self.shared_code is None else self.shared_code.expand(z.shape[0], -1)
            alphas = self.modulator(code)
        return modulated_siren(params, t, alphas, self.cfg.omega_0), params


def masked_mse_per_series(
    pred: torch.Tensor, values: torch.Tensor, observed: torch.Tensor
) -> torch.Tensor:
    """``sum_{j,d} m (pred - x)^2 / sum_{j,d} m`` for each series; ``(B,)``.

    Entries with ``observed == 0`` are replaced before the difference is formed, so their values
    (NaN included) cannot influence the result or its gradient.
    """
    m = observed.to(torch.bool)
    target = torch.where(m, values, torch.zeros((), dtype=values.dtype, device=values.device))
    err = torch.where(m, pred - target, torch.zeros((), dtype=pred.dtype, device=pred.device))
    count = m.sum(dim=(1, 2)).clamp_min(1).to(pred.dtype)
    return (err**2).sum(dim=(1, 2)) / count


def mads_loss(
    pred: torch.Tensor,
    values: torch.Tensor,
    observed: torch.Tensor,
    z: torch.Tensor,
    params: Mapping[str, torch.Tensor] | None,
    *,
    lambda_z: float,
    lambda_w: float,
) -> tuple[torch.Tensor, dict[str, float]]:
    """Spec 2.3: ``mean_i masked MSE_i + lambda_z mean(z^2) + lambda_w mean(theta^2)``.

    ``mean(theta^2)`` is one mean over every generated parameter of every series in the batch
    (sum of squares divided by the number of entries). ``params = None`` drops that term (the
    inference objective, where ``theta`` depends only on ``z``).
    """
    mse = masked_mse_per_series(pred, values, observed).mean()
    latent = (z**2).mean()
    loss = mse + lambda_z * latent
    theta_v = 0.0
    if params is not None and lambda_w:
        total = sum(p.numel() for p in params.values())
        theta = sum(torch.sum(p**2) for p in params.values()) / total
        loss = loss + lambda_w * theta
        theta_v = float(theta.detach())
    return loss, {"mse": float(mse.detach()), "latent": float(latent.detach()), "theta": theta_v}


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation budget (spec 2.3-2.4; paper-scale budgets in the defaults are ours [R])."""

    steps: int = 20000
    batch: int = 64
    lr: float = 1e-3
    lr_latent: float = 1e-3
    infer_steps: int = 1000
    infer_lr: float = 1e-2


def _as_tensors(times, values, observed, device, channels: int) -> tuple[torch.Tensor, ...]:
    t = torch.as_tensor(times, dtype=torch.float32, device=device)
    x = torch.as_tensor(values, dtype=torch.float32, device=device)
    m = torch.as_tensor(observed, dtype=torch.bool, device=device)
    if x.dim() != 3 or m.shape != x.shape or t.shape != x.shape[:2]:
        raise ValueError(
            f"expected times (N, T), values and observed (N, T, D); got {tuple(t.shape)}, "
            f"{tuple(x.shape)}, {tuple(m.shape)}"
        )
    if x.shape[2] != channels:
        raise ValueError(f"expected {channels} features (the model's), got {x.shape[2]}")
    return t, x, m


def train_mads(
    model: MADS,
    times,
    values,
    observed,
    tcfg: TrainConfig,
    *,
    seed: int = 0,
    desc: str = "MADS",
    progress: bool | None = None,
) -> History:
    """Fit the latent table and the networks on the observed entries of the training series.

    Parameters
    ----------
    model
        A :class:`MADS` with one latent row per training series.
    times, values, observed
        ``(N, T)``, ``(N, T, D)`` and ``(N, T, D)`` (bool). Values where ``observed`` is false
        are ignored (they may be NaN).
    tcfg
        Steps, batch size and learning rates (networks ``lr``, latent table ``lr_latent``).
    seed
        Seeds the mini-batch sampling.
    """
    device = model.latents.device
    t, x, m = _as_tensors(times, values, observed, device, model.channels)
    if t.shape[0] != model.latents.shape[0]:
        raise ValueError(f"model has {model.latents.shape[0]} latents but {t.shape[0]} series")
    from freqbook.train import make_adam

    opt = make_adam([model.latents], tcfg.lr_latent)
    opt.add_param_group({"params": model.network_parameters(), "lr": tcfg.lr})
    gen = torch.Generator().manual_seed(seed)
    n, batch = t.shape[0], min(tcfg.batch, t.shape[0])
    c = model.cfg

    def step() -> tuple[torch.Tensor, dict[str, float]]:
        idx = torch.randint(n, (batch,), generator=gen).to(device)
        z = model.latents[idx]
        pred, params = model(z, t[idx])
        return mads_loss(pred, x[idx], m[idx], z, params, lambda_z=c.lambda_z, lambda_w=c.lambda_w)

    model.train()
    return fit([], step, tcfg.steps, tcfg.lr, desc=desc, progress=progress, optimizer=opt)


def infer_latents(
    model: MADS,
    times,
    values,
    observed,
    tcfg: TrainConfig,
    *,
    desc: str = "MADS inference",
    progress: bool | None = None,
) -> tuple[torch.Tensor, History]:
    """Auto-decoding: fresh codes (from 0) for unseen series, networks frozen (spec 2.4).

    Only the new codes are optimised (Adam, ``infer_lr``, ``infer_steps`` full-batch steps) on
    ``mean_i masked MSE_i + lambda_z mean(z^2)``; the model's parameters are left untouched.

    Returns
    -------
    tuple
        The optimised codes ``(N, k)`` (detached) and the history.
    """
    device = model.latents.device
    t, x, m = _as_tensors(times, values, observed, device, model.channels)
    z = torch.zeros(t.shape[0], model.cfg.latent_dim, device=device, requires_grad=True)
    frozen = [(p, p.requires_grad) for p in model.parameters()]
    for p, _ in frozen:
        p.requires_grad_(False)
    lz = model.cfg.lambda_z

    def step() -> tuple[torch.Tensor, dict[str, float]]:
        pred, _ = model(z, t)
        return mads_loss(pred, x, m, z, None, lambda_z=lz, lambda_w=0.0)

    try:
        model.eval()
        hist = fit([z], step, tcfg.infer_steps, tcfg.infer_lr, desc=desc, progress=progress)
    finally:
        for p, flag in frozen:
            p.requires_grad_(flag)
    return z.detach(), hist


@torch.no_grad()
def predict(model: MADS, z: torch.Tensor, times) -> torch.Tensor:
    """SIREN outputs ``(N, T, D)`` of codes ``z`` at ``times (N, T)``."""
    t = torch.as_tensor(times, dtype=torch.float32, device=z.device)
    return model(z, t)[0]


def impute(
    model: MADS, times, values, observed, tcfg: TrainConfig, *, progress: bool | None = None
) -> torch.Tensor:
    """Infer codes on the observed entries and return the model's values at every entry."""
    z, _ = infer_latents(model, times, values, observed, tcfg, progress=progress)
    return predict(model, z, times)
