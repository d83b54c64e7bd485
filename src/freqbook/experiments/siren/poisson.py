"""SIREN Poisson image reconstruction (paper Sec. 4.1 "Solving the Poisson equation", Fig. 3 and
its inline PSNR table; artefact T-poisson of ``papers/siren.md``).

A network :math:`\\Phi(x)` on :math:`x \\in [-1, 1]^2` never sees the image :math:`f`; it is
trained only on a derivative of it, following the official scripts
``train_poisson_grad_img.py`` / ``train_poisson_lapl_img.py`` (``papers/siren.md`` Sec. 2.4):

* **gradient supervision** - targets are the Sobel derivatives of ``10 f`` along both image axes
  and the loss is :math:`\\operatorname{mean}_x \\lVert\\nabla\\Phi(x) - g(x)\\rVert^2`;
* **Laplacian supervision** - the target is the 5-point Laplacian of ``1e4 f``
  (``scipy.ndimage.laplace``) and the loss is
  :math:`\\operatorname{mean}_x (\\Delta\\Phi(x) - l(x))^2`.

The network derivatives come from autograd (:func:`freqbook.nn.gradient`,
:func:`freqbook.nn.laplacian`), so every step differentiates through a derivative (double
backward; triple for the Laplacian).

Scale of the targets. A stencil on pixel indices and an autograd derivative with respect to
coordinates in [-1, 1] differ by the pixel spacing :math:`h = 2/(n-1)` per derivative, and
``scipy.ndimage.sobel`` is not normalised: on a 2-D image it is 8 times a per-pixel derivative
(central difference :math:`[-1, 0, 1]` = 2x, smoothing :math:`[1, 2, 1]` = 4x). The official
``dataio.py`` (``Implicit2DWrapper.__getitem__``, lines 601-603 at commit 4df34ba) applies it to
the ``(1, H, W)`` tensor of the image, so the ``[1, 2, 1]`` smoothing also runs along the size-1
channel axis (mode ``reflect`` repeats the single sample: 1 + 2 + 1 = 4) and the official targets
are **4 times** the 2-D Sobel of the image: 32 times a per-pixel derivative. The Laplace stencil
(``scipy.ndimage.laplace`` on the same array) is unaffected: its second difference along the
size-1 axis is 0. Hence the targets are consistent with :math:`\\Phi = A f + \\text{const}`
(gradient) or :math:`\\Phi = A f + \\text{harmonic}` (Laplacian) where

.. math:: A_\\nabla = c_\\nabla \\cdot k h,\\qquad A_\\Delta = c_\\Delta h^2,

with :math:`k = 32` (official, ``sobel="official"``) or :math:`k = 8` (the plain 2-D Sobel,
``sobel="2d"``) and the image factors :math:`c_\\nabla = 10`, :math:`c_\\Delta = 10^4`. At the
official 256 px this gives :math:`A_\\nabla = 2.51` (official; 0.627 with the 2-D Sobel) and
:math:`A_\\Delta = 0.615`. The official code supervises with these targets as they are, and so does
the ``paper`` profile. At a smaller size the same constants would ask for a much larger
:math:`\\Phi` (at 64 px :math:`A_\\Delta \\approx 10`), a different optimisation problem for Adam at
lr 1e-4; so by default (``reference_size=256``) we multiply the factors by :math:`s = (n-1)/255`
(gradient) and :math:`s^2` (Laplacian), which keeps :math:`A` at its 256-px value for every
resolution (whichever Sobel convention) and reduces exactly to 10 and 1e4 at 256 px.
``reference_size=None`` uses the literal constants.

Because this book first used the 2-D convention, :func:`run` also trains SIREN under gradient
supervision with the *other* convention (``compare_sobel=True``), so the record carries the
effect of the convention on SIREN's PSNR (``siren_grad_psnr`` / ``sobel_effect_db``).

PSNR. Gradients fix :math:`\\Phi` only up to a constant and the Laplacian up to a harmonic
function, and neither fixes the scale that the paper's table used (not in the code; pitfall 6.7
of ``papers/siren.md``). We map the reconstruction to the image by a least-squares affine fit
:math:`a\\Phi + b` and then apply the SIREN convention
(:func:`freqbook.metrics.psnr_siren_convention`: [-1, 1] -> [0, 1], prediction clipped,
``data_range=1``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import partial

import matplotlib.pyplot as plt
import numpy as np
import torch
import xarray as xr
from scipy import ndimage

from freqbook.data.grids import mgrid
from freqbook.data.images import load_camera
from freqbook.models.siren import build_model
from freqbook.nn import gradient, laplacian
from freqbook.plotting import label, learning_curves
from freqbook.profiles import config_for as shared_config_for
from freqbook.results import run_and_record as shared_run_and_record
from freqbook.train import default_device, fit, seed_everything

SUPERVISIONS: tuple[str, ...] = ("gradient", "laplacian")
#: Sobel conventions: ``official`` = ``sobel`` of the ``(1, H, W)`` array (4x the 2-D one),
#: ``2d`` = ``sobel`` of the ``(H, W)`` image
SOBEL_CONVENTIONS: tuple[str, ...] = ("official", "2d")
#: per-pixel-derivative gain of each convention ([-1, 0, 1] = 2, [1, 2, 1] = 4 per smoothed axis)
SOBEL_GAIN: dict[str, float] = {"official": 32.0, "2d": 8.0}
#: the paper's table: tanh, ReLU + P.E. and SIREN (plain ReLU has no second derivative)
POISSON_MODELS: tuple[str, ...] = ("tanh", "relu_pe", "siren")


@dataclass(frozen=True)
class PoissonConfig:
    """Settings of the Poisson experiment (one instance per profile, see :data:`PROFILES`).

    Attributes
    ----------
    size
        Side of the square image in pixels (paper: 256).
    hidden_features, hidden_layers
        MLP width and number of hidden-to-hidden layers (paper: 256 and 3).
    steps, lr
        Full-batch Adam steps and learning rate (paper: 10 000 and 1e-4).
    seeds
        Seeds; tables report mean +- sd over them.
    models
        Networks to train, from :data:`POISSON_MODELS` (``"relu"`` is accepted for gradient
        supervision only).
    supervisions
        Any of :data:`SUPERVISIONS`.
    grad_factor, lapl_factor
        Image factors before the Sobel / Laplace stencil (official: 10 and 1e4).
    reference_size
        Resolution whose implied reconstruction amplitude is kept (module docstring); ``None``
        applies the factors literally at every size.
    sobel
        Sobel convention of the gradient targets, from :data:`SOBEL_CONVENTIONS` (official:
        ``"official"``, the 3-D Sobel of the ``(1, H, W)`` array).
    compare_sobel
        Also train SIREN (gradient supervision, every seed) with the other convention, to
        measure its effect (``siren_grad_psnr``, ``sobel_effect_db`` in the record).
    """

    size: int
    hidden_features: int = 256
    hidden_layers: int = 3
    steps: int = 10_000
    lr: float = 1e-4
    seeds: tuple[int, ...] = (0,)
    models: tuple[str, ...] = POISSON_MODELS
    supervisions: tuple[str, ...] = SUPERVISIONS
    grad_factor: float = 10.0
    lapl_factor: float = 1e4
    reference_size: int | None = 256
    sobel: str = "official"
    compare_sobel: bool = True

    def __post_init__(self) -> None:
        if self.sobel not in SOBEL_CONVENTIONS:
            raise ValueError(f"sobel must be one of {SOBEL_CONVENTIONS}, got {self.sobel!r}")
        bad = [m for m in self.models if m not in (*POISSON_MODELS, "relu")]
        bad += [s for s in self.supervisions if s not in SUPERVISIONS]
        if bad:
            raise ValueError(f"unknown models/supervisions {bad}")
        if "relu" in self.models and "laplacian" in self.supervisions:
            raise ValueError("a ReLU MLP has zero Laplacian; it cannot be Laplacian-supervised")


PROFILES: dict[str, PoissonConfig] = {
    "smoke": PoissonConfig(size=32, hidden_features=64, steps=60, seeds=(0,)),
    "cpu": PoissonConfig(size=64, hidden_features=128, steps=200, seeds=(0,)),
    "paper": PoissonConfig(size=256, hidden_features=256, hidden_layers=3, steps=10_000, lr=1e-4),
}


#: the profile's config with its seeds shifted to start at ``seed`` (``config_for(profile, seed)``)
config_for = partial(shared_config_for, PROFILES)


def target_factors(cfg: PoissonConfig) -> tuple[float, float]:
    """Factors applied to the image before the Sobel and Laplace stencils (module docstring)."""
    if cfg.reference_size is None:
        return cfg.grad_factor, cfg.lapl_factor
    s = (cfg.size - 1) / (cfg.reference_size - 1)
    return cfg.grad_factor * s, cfg.lapl_factor * s**2


def implied_amplitudes(
    n: int, grad_factor: float, lapl_factor: float, sobel: str = "official"
) -> tuple[float, float]:
    """:math:`A_\\nabla = k c_\\nabla h` (``k`` = 32 official, 8 for the 2-D Sobel) and
    :math:`A_\\Delta = c_\\Delta h^2`, ``h = 2/(n-1)``: the reconstruction that matches the targets
    exactly is ``A f`` plus a constant / harmonic term."""
    h = 2.0 / (n - 1)
    return SOBEL_GAIN[sobel] * grad_factor * h, lapl_factor * h**2


def sobel_gradient(image: np.ndarray, sobel: str = "official") -> np.ndarray:
    """``(n, n, 2)`` Sobel derivatives of ``image`` along rows (axis 0) and columns (axis 1).

    ``sobel="official"`` filters the ``(1, n, n)`` array as the official ``dataio.py`` does, so
    the ``[1, 2, 1]`` smoothing also runs along the size-1 axis (``reflect``: 4x the 2-D
    result); ``sobel="2d"`` filters the image itself.
    """
    if sobel not in SOBEL_CONVENTIONS:
        raise ValueError(f"sobel must be one of {SOBEL_CONVENTIONS}, got {sobel!r}")
    f = image.astype(np.float64)
    if sobel == "official":
        f3 = f[None]
        return np.stack([ndimage.sobel(f3, axis=a + 1)[0] for a in (0, 1)], axis=-1)
    return np.stack([ndimage.sobel(f, axis=a) for a in (0, 1)], axis=-1)


def poisson_targets(
    image: np.ndarray, grad_factor: float, lapl_factor: float, sobel: str = "official"
) -> tuple[np.ndarray, np.ndarray]:
    """Supervision fields of the official scripts (``papers/siren.md`` Sec. 2.4).

    Returns
    -------
    grad : numpy.ndarray
        ``(n, n, 2)``: :func:`sobel_gradient` of ``grad_factor * f`` (``sobel`` convention)
        along axis 0 (rows) and axis 1 (columns), matching coordinate 0 and 1 of
        :func:`freqbook.data.grids.mgrid` (ij order).
    lap : numpy.ndarray
        ``(n, n)``: ``laplace(lapl_factor * f)`` (5-point stencil; the same on the ``(1, n, n)``
        array). Both use scipy's default ``reflect`` boundary, as the official code does.
    """
    f = image.astype(np.float64)
    return sobel_gradient(grad_factor * f, sobel), ndimage.laplace(lapl_factor * f)


def affine_fit(pred: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, float, float]:
    """Least-squares ``a * pred + b`` closest to ``target`` (pitfall 6.7); returns it, a and b.

    A constant prediction (e.g. a network with no gradient at all) maps to the target's mean.
    """
    p, t = pred.double().flatten(), target.double().flatten()
    pc, tc = p - p.mean(), t - t.mean()
    var = float(torch.dot(pc, pc))
    a = float(torch.dot(pc, tc)) / var if var > 1e-24 else 0.0
    b = float(t.mean() - a * p.mean())
    return (a * pred.double() + b).to(pred.dtype), a, b


def psnr_after_affine(pred: torch.Tensor, target: torch.Tensor) -> float:
    """PSNR (SIREN convention: [0, 1], clipped, range 1) of the affinely fitted reconstruction."""
    rec, _, _ = affine_fit(pred, target)
    rec01 = (rec / 2 + 0.5).clamp(0.0, 1.0)
    mse = float(torch.mean((rec01 - (target / 2 + 0.5)) ** 2))
    return float(-10.0 * np.log10(max(mse, 1e-20)))


def _operator(supervision: str):
    """Network derivative that a supervision constrains, as a ``(N, k)`` tensor."""
    if supervision == "gradient":
        return lambda y, x, graph=True: gradient(y, x, create_graph=graph)
    return lambda y, x, graph=True: laplacian(y, x, create_graph=graph)


def relu_laplacian_rms(cfg: PoissonConfig, coords: torch.Tensor) -> float:
    """RMS of the autograd Laplacian of a freshly initialised ReLU MLP of ``cfg``'s shape.

    A ReLU MLP is piecewise linear, so this is exactly 0: the Laplacian loss would be the
    constant ``mean(l^2)`` with no gradient with respect to the weights (Sec. 4.1).
    """
    seed_everything(cfg.seeds[0])
    net = build_model("relu", 2, 1, hidden_features=cfg.hidden_features,
                      hidden_layers=cfg.hidden_layers, samples_per_axis=cfg.size)
    x = coords.clone().requires_grad_(True)
    lap = laplacian(net(x), x, create_graph=False)
    return float(torch.sqrt(torch.mean(lap.double() ** 2)))


def _train(cfg: PoissonConfig, name: str, sup: str, seed: int, coords: torch.Tensor,
           goal: torch.Tensor, target: torch.Tensor, progress: bool | None,
           desc: str) -> tuple[torch.nn.Module, object, float]:
    """Train one ``name`` network on the ``sup`` targets ``goal``; returns it, its history and
    the training wall time."""
    op = _operator(sup)
    seed_everything(seed)
    model = build_model(name, 2, 1, hidden_features=cfg.hidden_features,
                        hidden_layers=cfg.hidden_layers, samples_per_axis=cfg.size)
    model = model.to(coords.device)

    def step():
        x = coords.clone().requires_grad_(True)
        y = model(x)
        loss = torch.mean(torch.sum((op(y, x) - goal) ** 2, dim=-1))
        return loss, {"psnr": psnr_after_affine(y.detach(), target)}

    start = time.perf_counter()
    hist = fit(model.parameters(), step, cfg.steps, cfg.lr, desc=desc, progress=progress)
    return model, hist, time.perf_counter() - start


def run(
    cfg: PoissonConfig,
    *,
    progress: bool | None = None,
    device: str | torch.device | None = None,
) -> xr.Dataset:
    """Train every (supervision, model, seed) of ``cfg`` on the camera image; return the record.

    Returns
    -------
    xarray.Dataset
        ``psnr(supervision, method, seed, step)`` (after the affine fit, measured on each step's
        forward pass before its update) and ``loss``; ``final_psnr``, ``final_loss``,
        ``amplitude`` (the fitted ``1/a``, to compare with the implied amplitude ``A``) and
        ``wall_s`` per ``(supervision, method, seed)``; the first seed's affinely fitted
        reconstructions ``recon`` and derivative fields ``field`` (``|grad Phi|`` or
        ``Delta Phi``) per ``(supervision, method, y, x)``; the image ``target`` and the
        supervision fields ``target_field``; the scalar ``relu_laplacian_rms``. With
        ``cfg.compare_sobel`` (and SIREN under gradient supervision): SIREN's gradient-supervised
        final PSNR per ``(sobel, seed)`` for both Sobel conventions, ``siren_grad_psnr``, and
        ``sobel_effect_db(seed)`` = official minus 2-D.
    """
    n = cfg.size
    image = load_camera(n)
    dev = torch.device(device) if device is not None else default_device()
    coords = mgrid(n, n).to(dev)
    target = torch.from_numpy(image.reshape(-1, 1).astype(np.float32)).to(dev)
    gf, lf = target_factors(cfg)
    g_np, l_np = poisson_targets(image, gf, lf, cfg.sobel)
    fields = {
        "gradient": torch.from_numpy(g_np.reshape(-1, 2).astype(np.float32)).to(dev),
        "laplacian": torch.from_numpy(l_np.reshape(-1, 1).astype(np.float32)).to(dev),
    }
    shown = {"gradient": np.linalg.norm(g_np, axis=-1), "laplacian": l_np}

    ns, nm, nk = len(cfg.supervisions), len(cfg.models), len(cfg.seeds)
    curves = np.full((ns, nm, nk, cfg.steps), np.nan)
    losses = np.full_like(curves, np.nan)
    final, final_loss, amp, walls = (np.full((ns, nm, nk), np.nan) for _ in range(4))
    recon, field = np.full((ns, nm, n, n), np.nan), np.full((ns, nm, n, n), np.nan)

    for s, sup in enumerate(cfg.supervisions):
        op, goal = _operator(sup), fields[sup]
        for i, name in enumerate(cfg.models):
            for j, seed in enumerate(cfg.seeds):
                model, hist, walls[s, i, j] = _train(cfg, name, sup, seed, coords, goal, target,
                                                     progress, f"{sup} {name} s{seed}")
                curves[s, i, j], losses[s, i, j] = hist.metrics["psnr"], hist.loss

                x = coords.clone().requires_grad_(True)
                y = model(x)
                d = op(y, x, graph=False).detach()
                y = y.detach()
                final_loss[s, i, j] = float(torch.mean(torch.sum((d - goal) ** 2, dim=-1)))
                final[s, i, j] = psnr_after_affine(y, target)
                rec, a, _ = affine_fit(y, target)
                amp[s, i, j] = 1.0 / a if a != 0 else np.inf
                if j == 0:
                    recon[s, i] = rec.reshape(n, n).cpu().numpy()
                    dd = d.reshape(n, n, -1).cpu().numpy()
                    field[s, i] = np.linalg.norm(dd, axis=-1) if sup == "gradient" else dd[..., 0]

    a_grad, a_lapl = implied_amplitudes(n, gf, lf, cfg.sobel)
    smk, smks = ("supervision", "method", "seed"), ("supervision", "method", "seed", "step")
    img = ("supervision", "method", "y", "x")
    data = {
        "psnr": (smks, curves, {"units": "dB", "convention": "affine fit, then SIREN PSNR"}),
        "loss": (smks, losses, {"long_name": "derivative MSE (training loss)"}),
        "final_psnr": (smk, final, {"units": "dB"}),
        "final_loss": (smk, final_loss),
        "amplitude": (smk, amp, {"long_name": "1/a of the affine fit (Phi ~ A f)"}),
        "wall_s": (smk, walls, {"units": "s"}),
        "recon": (img, recon, {"long_name": "affinely fitted reconstruction, seed 0"}),
        "field": (img, field, {"long_name": "|grad Phi| or Laplacian of Phi, seed 0"}),
        "target": (("y", "x"), image),
        "target_field": (("supervision", "y", "x"),
                         np.stack([shown[s] for s in cfg.supervisions])),
        "implied_amplitude": (("supervision",),
                              [a_grad if s == "gradient" else a_lapl
                               for s in cfg.supervisions]),
        "relu_laplacian_rms": ((), relu_laplacian_rms(cfg, coords)),
    }
    coords_out = {
        "supervision": list(cfg.supervisions),
        "method": list(cfg.models),
        "seed": list(cfg.seeds),
        "step": np.arange(cfg.steps),
    }
    if cfg.compare_sobel and "gradient" in cfg.supervisions and "siren" in cfg.models:
        data.update(_sobel_comparison(cfg, image, coords, target, final, progress))
        coords_out["sobel"] = list(SOBEL_CONVENTIONS)
    return xr.Dataset(data, coords=coords_out,
                      attrs={"grad_factor": gf, "lapl_factor": lf, "sobel": cfg.sobel})


def _sobel_comparison(cfg: PoissonConfig, image: np.ndarray, coords: torch.Tensor,
                      target: torch.Tensor, final: np.ndarray,
                      progress: bool | None) -> dict[str, tuple]:
    """SIREN's gradient-supervised final PSNR under both Sobel conventions, every seed: the
    run's own convention is read from ``final``, the other one is trained here."""
    s, i = cfg.supervisions.index("gradient"), cfg.models.index("siren")
    other = next(c for c in SOBEL_CONVENTIONS if c != cfg.sobel)
    gf, lf = target_factors(cfg)
    g_np, _ = poisson_targets(image, gf, lf, other)
    goal = torch.from_numpy(g_np.reshape(-1, 2).astype(np.float32)).to(coords.device)
    psnr = np.full((len(SOBEL_CONVENTIONS), len(cfg.seeds)), np.nan)
    psnr[SOBEL_CONVENTIONS.index(cfg.sobel)] = final[s, i]
    for j, seed in enumerate(cfg.seeds):
        model, _, _ = _train(cfg, "siren", "gradient", seed, coords, goal, target, progress,
                             f"gradient siren s{seed} ({other} Sobel)")
        with torch.no_grad():
            psnr[SOBEL_CONVENTIONS.index(other), j] = psnr_after_affine(model(coords), target)
    official, plain = (psnr[SOBEL_CONVENTIONS.index(c)] for c in ("official", "2d"))
    n = cfg.size
    amps = [implied_amplitudes(n, gf, lf, c)[0] for c in SOBEL_CONVENTIONS]
    return {
        "siren_grad_psnr": (("sobel", "seed"), psnr,
                            {"units": "dB",
                             "long_name": "SIREN, gradient supervision, final PSNR"}),
        "sobel_effect_db": (("seed",), official - plain,
                            {"units": "dB", "long_name": "SIREN gradient-supervised PSNR, "
                             "official (1, H, W) Sobel minus 2-D Sobel targets"}),
        "sobel_implied_amplitude": (("sobel",), amps),
    }


def run_and_record(cfg: PoissonConfig, profile: str, *, progress: bool | None = None):
    """:func:`run` and save the record ``siren/poisson`` of ``profile`` with provenance.

    Returns
    -------
    tuple[xarray.Dataset, pathlib.Path]
        The record and where it was written.
    """
    from freqbook.results.record import array_sha256

    return shared_run_and_record(
        run, cfg, paper="siren", experiment="poisson", profile=profile, progress=progress,
        data_sha256=lambda: {"skimage.data.camera (float32, [-1,1])": array_sha256(load_camera())},
    )


def reconstruction_grid(ds: xr.Dataset) -> plt.Figure:
    """Paper Fig. 3 layout: per supervision, one row of derivative fields (the target, then each
    network's autograd field) and one row of images (ground truth, then the affinely fitted
    reconstructions). Each row shares one colour scale, fixed by its ground-truth panel."""
    methods = [str(m) for m in ds["method"].values]
    sups = [str(s) for s in ds["supervision"].values]
    ncol = len(methods) + 1
    fig, axes = plt.subplots(2 * len(sups), ncol, figsize=(1.8 * ncol + 0.8, 3.7 * len(sups)),
                             squeeze=False)
    for k, sup in enumerate(sups):
        tf = ds["target_field"].sel(supervision=sup).values
        if sup == "gradient":
            fkw = dict(cmap="magma", vmin=0.0, vmax=float(np.percentile(tf, 99.5)))
            fname = "|∇Φ| (target: |g|)"
        else:
            hi = float(np.percentile(np.abs(tf), 99.5))
            fkw = dict(cmap="RdBu_r", vmin=-hi, vmax=hi)
            fname = "ΔΦ (target: l)"
        rows = [
            (fname, tf, "field", fkw, "supervision"),
            (f"image ({sup})", ds["target"].values, "recon",
             dict(cmap="gray", vmin=-1, vmax=1), "ground truth"),
        ]
        for r, (name, truth, var, kw, first) in enumerate(rows):
            row = axes[2 * k + r]
            for c in range(ncol):
                m = methods[c - 1] if c else None
                img = truth if c == 0 else ds[var].sel({"supervision": sup, "method": m}).values
                im = row[c].imshow(img, **kw)
                row[c].set_xticks([])
                row[c].set_yticks([])
                row[c].grid(False)
                title = first if c == 0 else label(m)
                if c and var == "recon":
                    sel = {"supervision": sup, "method": m}
                    psnr = float(ds["final_psnr"].sel(sel).isel(seed=0))
                    title += f"\n{psnr:.1f} dB"
                row[c].set_title(title)
            row[0].set_ylabel(name)
            fig.colorbar(im, ax=row.tolist(), shrink=0.85, pad=0.01)
    return fig


def psnr_panels(ds: xr.Dataset) -> plt.Figure:
    """PSNR (after the affine fit) against the Adam step, one panel per supervision."""
    sups = [str(s) for s in ds["supervision"].values]
    fig, axes = plt.subplots(1, len(sups), figsize=(4.6 * len(sups), 3.2), squeeze=False)
    for ax, sup in zip(axes[0], sups, strict=True):
        learning_curves(ds["psnr"].sel(supervision=sup), ax=ax,
                        ylabel="PSNR after affine fit (dB)")
        ax.set_title(f"{sup} supervision")
    return fig
