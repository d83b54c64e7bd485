"""SIREN solving the Helmholtz equation for one point source (paper Sec. 4.3, artefact F-helmholtz).

A network ``u(x) = Re u + i Im u`` (two real outputs) is trained **only** through the PDE: no value
of the solution is ever shown to it. The problem is the official ``train_helmholtz.py`` one: a
uniform medium (squared slowness 1), wavenumber ``k = 20`` on ``[-1, 1]^2``, a Gaussian source of
variance ``sigma = 1e-4`` and complex amplitude ``s = 1 + i`` at the origin, and a perfectly matched
layer (PML) of width 0.5 along all four edges that absorbs the outgoing wave.

Equations (written here in the official code's time convention ``e^{+i omega t}``)
-------------------------------------------------------------------------------
Outgoing waves are ``e^{-i k r}``. The PML replaces ``d/dx`` by ``(1/e_x) d/dx`` with the complex
stretch factors

.. math:: e_x = 1 - i\\, a_0 (d_x / L)^2, \\qquad e_y = 1 - i\\, a_0 (d_y / L)^2,

where ``d_x`` is the depth into the layer (``max(|x| - (1 - L), 0)``), ``L = 0.5`` and ``a_0 = 5``
(the official ``sx = k a0 (d/L)^2``, ``e = 1 - i sx / k``). Multiplying the stretched equation by
``e_x e_y`` (``e_x`` depends on ``x`` only, ``e_y`` on ``y`` only) gives the divergence form that is
implemented in :func:`helmholtz_residual`:

.. math:: \\partial_x\\Big(\\frac{e_y}{e_x}\\partial_x u\\Big) + \\partial_y\\Big(\\frac{e_x}{e_y}
          \\partial_y u\\Big) + e_x e_y\\, k^2 u = s\\, g_\\sigma(x),

with ``g_sigma`` the unit-mass Gaussian ``exp(-|x|^2 / (2 sigma)) / (2 pi sigma)``. A plane wave
``exp(-i k \\tilde x)`` in the stretched coordinate ``\\tilde x = \\int e_x dx`` decays like
``exp(-k a0 d^3 / (3 L^2))`` inside the layer. Outside the PML ``e_x = e_y = 1`` and the equation
is ``(Delta + k^2) u = s g``. Its outgoing solution in this convention is

.. math:: u(r) = s\\, \\frac{i}{4}\\, e^{-\\sigma k^2 / 2}\\, H_0^{(2)}(k r)

for ``r`` beyond the source's support (the free-space Green's function of ``Delta + k^2`` with
``+delta`` on the right is ``(i/4) H_0^{(2)}``; convolving with a radial source multiplies it by the
source's 2-D Fourier transform at ``|xi| = k``, here ``exp(-sigma k^2/2)``, by Graf's addition
theorem). In the ``e^{-i omega t}`` convention everything is complex-conjugated
(``H_0^{(1)}``, ``e = 1 + i a0 (d/L)^2``, and ``(Delta + k^2) u = -delta`` has ``(i/4) H_0^{(1)}``).

Loss (official ``helmholtz_pml``): per step ``N`` uniform points plus 100 points in the disc of
radius ``500 sigma`` around the source; where the source term exceeds ``1e-5`` the residual must
equal it, elsewhere it must vanish; L1 in both, the on-source sum weighted ``N / 1000`` relative to
the off-source sum. We divide the total by ``N`` (a constant, which Adam ignores).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import partial

import numpy as np
import torch
import xarray as xr
from scipy import special

from freqbook.data.grids import mgrid
from freqbook.models.siren import MODEL_NAMES, build_model
from freqbook.nn import divergence, gradient
from freqbook.profiles import config_for as shared_config_for
from freqbook.results import run_and_record as shared_run_and_record
from freqbook.train import default_device, fit, seed_everything

SOURCE = (1.0, 1.0)  # complex source amplitude s = 1 + i (official ``self.source``)


@dataclass(frozen=True)
class HelmholtzConfig:
    """Settings of the Helmholtz experiment (one instance per profile, see :data:`PROFILES`).

    Attributes
    ----------
    wavenumber
        ``k`` (paper: 20, i.e. a wavelength ``2 pi / k = 0.31`` on the domain ``[-1, 1]^2``).
    points_per_step, source_points
        Uniform collocation points per step (paper: 230^2) and extra points drawn in the disc of
        radius ``500 sigma`` around the source (paper: 100).
    sigma
        Variance of the Gaussian source (the official code calls it ``sigma``; paper: 1e-4).
    pml_width, pml_a0
        PML width ``L`` and strength ``a0`` (paper: 0.5 and 5).
    hidden_features, hidden_layers, steps, lr
        MLP width, hidden-to-hidden layers, Adam steps, learning rate (paper: 256, 3, 50 000, 2e-5).
    eval_size, eval_every
        Side of the evaluation grid (paper's reference grid: 230); steps between error evaluations.
    exclude_radius
        Disc around the source left out of the error (the reference is singular at ``r = 0``).
    seeds, models, single_seed
        Seeds, models (:data:`~freqbook.models.siren.MODEL_NAMES`), models run on seed 0 only.
    """

    wavenumber: float = 20.0
    points_per_step: int = 230 * 230
    source_points: int = 100
    sigma: float = 1e-4
    pml_width: float = 0.5
    pml_a0: float = 5.0
    hidden_features: int = 256
    hidden_layers: int = 3
    steps: int = 50_000
    lr: float = 2e-5
    eval_size: int = 230
    exclude_radius: float = 0.1
    eval_every: int = 500
    seeds: tuple[int, ...] = (0,)
    models: tuple[str, ...] = ("siren", "relu", "tanh", "rbf_relu")
    single_seed: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        unknown = [m for m in (*self.models, *self.single_seed) if m not in MODEL_NAMES]
        if unknown:
            raise ValueError(f"unknown models {unknown}; valid: {', '.join(MODEL_NAMES)}")


PROFILES: dict[str, HelmholtzConfig] = {
    "smoke": HelmholtzConfig(
        wavenumber=10.0, points_per_step=256, hidden_features=32, steps=40, lr=1e-4,
        eval_size=48, eval_every=10, models=("siren", "relu", "tanh"),
    ),
    # ~2.5 min on 2 shared cores: k = 10 (half the paper's wavelengths per domain), 32^2 points per
    # step, width 64, 250 steps, one seed. Far too short for the wave to form: see the notebook.
    "cpu": HelmholtzConfig(
        wavenumber=10.0, points_per_step=32 * 32, hidden_features=64, steps=250, lr=1e-4,
        eval_size=128, eval_every=25, seeds=(0,), models=("siren", "relu", "tanh"),
    ),
    "paper": HelmholtzConfig(),
}


#: the profile's config with its seeds shifted to start at ``seed`` (``config_for(profile, seed)``)
config_for = partial(shared_config_for, PROFILES)


def pml_stretch(
    coords: torch.Tensor, width: float = 0.5, a0: float = 5.0
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Complex stretch factors ``e_x = 1 - i a0 (d_x/L)^2`` and ``e_y`` of the PML, as real parts.

    Returns
    -------
    tuple of four (N, 1) tensors
        ``(Re e_x, Im e_x, Re e_y, Im e_y)``; differentiable in ``coords``.
    """
    depth = (coords.abs() - (1.0 - width)).clamp(min=0.0) / width
    im = -a0 * depth**2
    one = torch.ones_like(im[:, :1])
    return one, im[:, :1], one, im[:, 1:2]


def _cdiv(ar, ai, br, bi):
    den = br * br + bi * bi
    return (ar * br + ai * bi) / den, (ai * br - ar * bi) / den


def helmholtz_residual(
    u: torch.Tensor,
    coords: torch.Tensor,
    wavenumber: float,
    *,
    pml_width: float = 0.5,
    a0: float = 5.0,
    pml: bool = True,
) -> torch.Tensor:
    """PML-stretched Helmholtz operator on ``u = (Re, Im)`` at ``coords`` (module docstring).

    Computes ``d_x(e_y/e_x d_x u) + d_y(e_x/e_y d_y u) + e_x e_y k^2 u`` by autograd
    (:func:`freqbook.nn.gradient`, :func:`freqbook.nn.divergence`); ``coords`` must require grad.
    With ``pml=False`` it is the plain ``(Delta + k^2) u``.

    Returns
    -------
    torch.Tensor
        ``(N, 2)``: real and imaginary part of the residual (before subtracting the source).
    """
    if pml:
        exr, exi, eyr, eyi = pml_stretch(coords, pml_width, a0)
    else:
        exr = eyr = torch.ones_like(coords[:, :1])
        exi = eyi = torch.zeros_like(coords[:, :1])
    ar, ai = _cdiv(eyr, eyi, exr, exi)  # A = e_y / e_x multiplies d_x u
    br, bi = _cdiv(exr, exi, eyr, eyi)  # B = e_x / e_y multiplies d_y u
    cr, ci = exr * eyr - exi * eyi, exr * eyi + exi * eyr  # C = e_x e_y
    gr = gradient(u[:, :1], coords)
    gi = gradient(u[:, 1:2], coords)
    flux_re = torch.cat([ar * gr[:, :1] - ai * gi[:, :1], br * gr[:, 1:] - bi * gi[:, 1:]], 1)
    flux_im = torch.cat([ar * gi[:, :1] + ai * gr[:, :1], br * gi[:, 1:] + bi * gr[:, 1:]], 1)
    k2 = wavenumber**2
    res_re = divergence(flux_re, coords) + k2 * (cr * u[:, :1] - ci * u[:, 1:2])
    res_im = divergence(flux_im, coords) + k2 * (cr * u[:, 1:2] + ci * u[:, :1])
    return torch.cat([res_re, res_im], dim=1)


def source_term(coords: torch.Tensor, sigma: float) -> torch.Tensor:
    """``s g_sigma(x)`` as ``(N, 2)`` (Re, Im), zero where below 1e-5 (official threshold)."""
    r2 = (coords**2).sum(dim=1, keepdim=True)
    g = torch.exp(-r2 / (2.0 * sigma)) / (2.0 * np.pi * sigma)
    f = g * torch.tensor(SOURCE, dtype=coords.dtype, device=coords.device)
    return torch.where(f < 1e-5, torch.zeros_like(f), f)


def sample_points(cfg: HelmholtzConfig, gen: torch.Generator) -> torch.Tensor:
    """Uniform points in ``[-1, 1]^2``; the last ``source_points`` lie in the source disc."""
    pts = torch.rand(cfg.points_per_step, 2, generator=gen) * 2.0 - 1.0
    m = cfg.source_points
    r = 500.0 * cfg.sigma * torch.rand(m, 1, generator=gen).sqrt()
    theta = 2.0 * np.pi * torch.rand(m, 1, generator=gen)
    pts[-m:] = torch.cat([r * torch.cos(theta), r * torch.sin(theta)], dim=1)
    return pts


def reference_field(cfg: HelmholtzConfig, n: int | None = None) -> np.ndarray:
    """Closed-form ``s (i/4) exp(-sigma k^2/2) H0^(2)(k r)`` on the ``n x n`` grid (complex)."""
    n = n or cfg.eval_size
    xy = mgrid(n, n).numpy().astype(np.float64).reshape(n, n, 2)
    r = np.hypot(xy[..., 0], xy[..., 1])
    k = cfg.wavenumber
    s = complex(*SOURCE)
    with np.errstate(all="ignore"):
        h2 = special.hankel2(0, k * np.maximum(r, 1e-6))
    return s * 0.25j * np.exp(-cfg.sigma * k**2 / 2) * h2


def evaluation_mask(cfg: HelmholtzConfig, n: int | None = None) -> np.ndarray:
    """Grid points inside the non-PML square and outside the disc around the source."""
    n = n or cfg.eval_size
    xy = mgrid(n, n).numpy().reshape(n, n, 2)
    inner = np.all(np.abs(xy) <= 1.0 - cfg.pml_width, axis=-1)
    return inner & (np.hypot(xy[..., 0], xy[..., 1]) > cfg.exclude_radius)


def field_errors(pred: np.ndarray, ref: np.ndarray, mask: np.ndarray) -> dict[str, float]:
    """Relative L2 error of the complex field and the MSE of Re and Im inside ``mask``."""
    d = (pred - ref)[mask]
    return {
        "rel_l2": float(np.sqrt(np.sum(np.abs(d) ** 2) / np.sum(np.abs(ref[mask]) ** 2))),
        "mse_re": float(np.mean(d.real**2)),
        "mse_im": float(np.mean(d.imag**2)),
    }


def field_figure(ds: xr.Dataset):
    """Re u, Im u and |error| of every model (first seed) beside the reference.

    Each row shares one colour scale, fixed by the reference inside the non-PML region (Re and Im
    rows) or by the largest error (error row); the dashed square marks the PML's inner edge.
    """
    import matplotlib.pyplot as plt

    from freqbook.plotting import label

    methods = [str(m) for m in ds["method"].values]
    mask = ds["mask"].values.astype(bool)
    ref = ds["ref_re"].values + 1j * ds["ref_im"].values
    preds = {m: (ds["pred_re"] + 1j * ds["pred_im"]).sel({"method": m}).values for m in methods}
    hi = float(np.abs(ref[mask]).max())
    err_hi = max(float(np.abs(p - ref)[mask].max()) for p in preds.values())
    ncol = len(methods) + 1
    fig, axes = plt.subplots(3, ncol, figsize=(1.9 * ncol + 0.6, 5.8), squeeze=False)
    ext = (-1, 1, 1, -1)
    inner = 1.0 - float(ds.attrs.get("pml_width", 0.5))
    rows = [("Re u", np.real, dict(cmap="RdBu_r", vmin=-hi, vmax=hi)),
            ("Im u", np.imag, dict(cmap="RdBu_r", vmin=-hi, vmax=hi)),
            ("|u - u_ref|", None, dict(cmap="magma", vmin=0, vmax=err_hi))]
    for r, (name, part, kw) in enumerate(rows):
        panels = [("reference (Hankel)", ref)] + [(label(m), preds[m]) for m in methods]
        for c, (title, z) in enumerate(panels):
            ax = axes[r, c]
            img = part(z) if part is not None else np.abs(z - ref)
            im = ax.imshow(img, extent=ext, **kw)
            ax.plot([-inner, inner, inner, -inner, -inner], [-inner, -inner, inner, inner, -inner],
                    "k--", lw=0.6)
            ax.grid(False)
            ax.set(xticks=[-1, 0, 1], yticks=[-1, 0, 1])
            ax.set(title=title if r == 0 else "", ylabel=f"{name}\ny" if c == 0 else "",
                   xlabel="x" if r == 2 else "")
        if r == 2:
            axes[2, 0].cla()
            axes[2, 0].axis("off")
        fig.colorbar(im, ax=axes[r, :].tolist(), shrink=0.85, pad=0.01, label=name)
    return fig


@torch.no_grad()
def _predict(model: torch.nn.Module, grid: torch.Tensor, n: int) -> np.ndarray:
    out = model(grid).double().cpu().numpy()
    return (out[:, 0] + 1j * out[:, 1]).reshape(n, n)


def run(cfg: HelmholtzConfig, *, progress: bool | None = None,
        device: str | torch.device | None = None) -> xr.Dataset:
    """Train every model of ``cfg`` on the PML Helmholtz problem for every seed; return the record.

    Returns
    -------
    xarray.Dataset
        ``loss(method, seed, step)``, ``rel_l2_curve(method, seed, eval_step)``, the final
        ``rel_l2``, ``mse_re``, ``mse_im``, ``wall_s(method, seed)``, ``params(method)``, the fields
        ``pred_re``, ``pred_im(method, y, x)`` of the first seed, and ``ref_re``, ``ref_im``,
        ``mask(y, x)`` (the points that enter the error).
    """
    dev = torch.device(device) if device is not None else default_device()
    n = cfg.eval_size
    grid = mgrid(n, n).to(dev)
    ref = reference_field(cfg)
    mask = evaluation_mask(cfg)
    eval_steps = np.arange(0, cfg.steps + 1, cfg.eval_every)
    if eval_steps[-1] != cfg.steps:
        eval_steps = np.append(eval_steps, cfg.steps)

    shape_ms = (len(cfg.models), len(cfg.seeds))
    losses = np.full(shape_ms + (cfg.steps,), np.nan)
    curves = np.full(shape_ms + (len(eval_steps),), np.nan)
    final = {k: np.full(shape_ms, np.nan) for k in ("rel_l2", "mse_re", "mse_im", "wall_s")}
    pred = np.zeros((len(cfg.models), n, n), dtype=np.complex128)
    n_params = np.zeros(len(cfg.models), dtype=np.int64)

    for i, name in enumerate(cfg.models):
        for j, seed in enumerate(cfg.seeds):
            if j > 0 and name in cfg.single_seed:
                continue
            seed_everything(seed)
            gen = torch.Generator().manual_seed(10_000 + seed)
            model = build_model(name, 2, 2, hidden_features=cfg.hidden_features,
                                hidden_layers=cfg.hidden_layers).to(dev)
            n_params[i] = sum(p.numel() for p in model.parameters())
            counter = {"step": 0}

            def step(model=model, counter=counter, gen=gen, i=i, j=j):
                t = counter["step"]
                if t % cfg.eval_every == 0:
                    curves[i, j, t // cfg.eval_every] = field_errors(
                        _predict(model, grid, n), ref, mask)["rel_l2"]
                counter["step"] = t + 1
                x = sample_points(cfg, gen).to(dev).requires_grad_(True)
                u = model(x)
                res = helmholtz_residual(u, x, cfg.wavenumber, pml_width=cfg.pml_width,
                                         a0=cfg.pml_a0)
                f = source_term(x.detach(), cfg.sigma)
                on = f != 0
                loss = (torch.where(on, res - f, 0.0).abs().sum() / 1e3
                        + torch.where(on, 0.0, res).abs().sum() / x.shape[0])
                return loss, {}

            start = time.perf_counter()
            hist = fit(model.parameters(), step, cfg.steps, cfg.lr, desc=f"{name} s{seed}",
                       progress=progress)
            final["wall_s"][i, j] = time.perf_counter() - start
            losses[i, j] = hist.loss
            field = _predict(model, grid, n)
            errs = field_errors(field, ref, mask)
            curves[i, j, -1] = errs["rel_l2"]
            for key, value in errs.items():
                final[key][i, j] = value
            if j == 0:
                pred[i] = field

    ms, img = ("method", "seed"), ("method", "y", "x")
    return xr.Dataset(
        {
            "loss": (("method", "seed", "step"), losses,
                     {"long_name": "L1 PDE loss (on-source /1e3 + off-source mean)"}),
            "rel_l2_curve": (("method", "seed", "eval_step"), curves,
                             {"long_name": "relative L2 error vs reference, non-PML region"}),
            "rel_l2": (ms, final["rel_l2"], {"long_name": "relative L2 error of u"}),
            "mse_re": (ms, final["mse_re"], {"long_name": "MSE of Re u"}),
            "mse_im": (ms, final["mse_im"], {"long_name": "MSE of Im u"}),
            "wall_s": (ms, final["wall_s"], {"units": "s"}),
            "params": (("method",), n_params),
            "pred_re": (img, pred.real),
            "pred_im": (img, pred.imag),
            "ref_re": (("y", "x"), ref.real),
            "ref_im": (("y", "x"), ref.imag),
            "mask": (("y", "x"), mask.astype(np.int8)),
        },
        attrs={"pml_width": cfg.pml_width, "wavenumber": cfg.wavenumber},
        coords={
            "method": list(cfg.models),
            "seed": list(cfg.seeds),
            "step": np.arange(cfg.steps),
            "eval_step": eval_steps,
            "y": np.linspace(-1.0, 1.0, n),
            "x": np.linspace(-1.0, 1.0, n),
        },
    )


def run_and_record(cfg: HelmholtzConfig, profile: str, *, progress: bool | None = None):
    """:func:`run`, then save the record ``siren/helmholtz``; returns ``(dataset, path)``."""
    return shared_run_and_record(
        run, cfg, paper="siren", experiment="helmholtz", profile=profile, progress=progress,
    )


