"""Signed distance functions from oriented point clouds (SIREN paper Sec. 4.2, artefact F-sdf).

A network ``Phi: R^3 -> R`` is fitted to an oriented point cloud (surface points ``x_i`` with
normals ``n_i``) by solving a particular Eikonal boundary-value problem: ``Phi = 0`` and
``grad Phi = n`` on the surface, ``|grad Phi| = 1`` everywhere, and ``Phi`` kept away from zero
off the surface (paper Sec. 4.2; official ``loss_functions.sdf``). The zero level set of
the fitted ``Phi`` is the reconstructed surface.

The paper's scans are not available offline; we fit analytic shapes (:mod:`freqbook.data.shapes`):

* ``chamfer`` - symmetric Chamfer-L1 distance between the marching-cubes surface of ``Phi``
  and the true surface: mean of ``accuracy`` (mean exact ``|SDF|`` at the extracted vertices)
  and ``completeness`` (mean distance from true-surface samples to the nearest vertex);
* ``sdf_err_near`` - mean ``|Phi - SDF|`` on grid nodes within 0.1 of the surface;
* ``eikonal_err`` - mean ``| |grad Phi| - 1 |`` at uniform random points in the box;
* ``normal_err_deg`` - mean angle between ``grad Phi`` and the true normal on the surface.
Plots: :func:`plot_meshes` (rendered zero level sets, same view) and :func:`plot_slices`."""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import partial

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
import xarray as xr
from matplotlib.colors import to_rgb
from mpl_toolkits.mplot3d.art3d import Poly3DCollection
from scipy.spatial import cKDTree
from skimage.measure import marching_cubes

from freqbook.data.shapes import Shape, make_shape
from freqbook.models.siren import build_model
from freqbook.nn import gradient
from freqbook.plotting import METHOD_COLOURS, label
from freqbook.profiles import config_for as shared_config_for
from freqbook.results import run_and_record as shared_run_and_record
from freqbook.train import default_device, fit, make_adam, seed_everything

#: names of the four loss terms, in the order of :func:`sdf_loss`
TERMS = ("on_surface", "off_surface", "normal", "eikonal")
#: official weights (``loss_functions.sdf``): 3e3, 1e2, 1e2, 5e1
WEIGHTS = {"on_surface": 3e3, "off_surface": 1e2, "normal": 1e2, "eikonal": 5e1}
SDF_MODELS = ("siren", "relu_pe")


@dataclass(frozen=True)
class SDFConfig:
    """Settings of the SDF experiment (one per profile, see :data:`PROFILES`).

    Attributes
    ----------
    shape, hidden_features, hidden_layers
        Name in :data:`freqbook.data.shapes.SHAPES`; MLP width and depth (paper: 256, 3).
    points
        ``N``: on-surface points per step; as many uniform off-surface points are added
        (official ``PointCloud``; README: 250 000).
    steps, lr, clip
        Adam steps, learning rate and gradient-norm clipping (official: 10 000, 1e-4, 1.0).
    cloud_points, eval_points
        Size of the fixed oriented point cloud the ``N`` surface points are drawn from, and of
        the held-out surface / uniform box samples used by the metrics.
    resolution, pe_frequencies
        Grid points per axis for evaluation and marching cubes; P.E. octaves of the ReLU
        baseline (official ``PosEncodingNeRF`` for 3-D input: 10).
    """

    shape: str = "scene"
    hidden_features: int = 256
    hidden_layers: int = 3
    points: int = 250_000
    steps: int = 10_000
    lr: float = 1e-4
    clip: float = 1.0
    cloud_points: int = 1_000_000
    resolution: int = 128
    pe_frequencies: int = 10
    eval_points: int = 20_000
    seeds: tuple[int, ...] = (0,)
    models: tuple[str, ...] = SDF_MODELS

    def __post_init__(self) -> None:
        if unknown := [m for m in self.models if m not in SDF_MODELS]:
            raise ValueError(f"unknown models {unknown}; valid: {', '.join(SDF_MODELS)}")


PROFILES: dict[str, SDFConfig] = {
    "smoke": SDFConfig(hidden_features=64, points=1000, steps=100, cloud_points=20_000,
                       resolution=40, eval_points=4000),
    "cpu": SDFConfig(hidden_features=128, points=2000, steps=500, cloud_points=100_000,
                     resolution=64, eval_points=10_000),
    "paper": SDFConfig(),
}


#: the profile's config with its seeds shifted to start at ``seed`` (``config_for(profile, seed)``)
config_for = partial(shared_config_for, PROFILES)


def sdf_loss(
    pred: torch.Tensor, coords: torch.Tensor, normals: torch.Tensor, on_surface: torch.Tensor
) -> dict[str, torch.Tensor]:
    """The four weighted terms of the SIREN SDF loss (paper Sec. 4.2; official ``sdf``).

    With ``Omega`` the batch (on-surface points ``Omega_0`` plus uniform off-surface points),

    * ``on_surface``  = 3e3 * mean_Omega( 1[x in Omega_0] |Phi(x)| ),
    * ``off_surface`` = 1e2 * mean_Omega( 1[x not in Omega_0] exp(-100 |Phi(x)|) ),
    * ``normal``      = 1e2 * mean_Omega( 1[x in Omega_0] (1 - cos(grad Phi(x), n(x))) ),
    * ``eikonal``     = 5e1 * mean_Omega( | |grad Phi(x)| - 1 | ).

    As in the official code every mean runs over the whole batch (masked entries count as
    zeros), so with equal on/off counts the surface terms carry half their nominal weight.

    Parameters
    ----------
    pred
        ``Phi(coords)``, shape ``(M, 1)``; ``coords`` must require grad and be its input.
    coords, normals
        ``(M, 3)``; ``normals`` is ignored where ``on_surface`` is False.
    on_surface
        Boolean ``(M,)`` mask of the surface samples.

    Returns
    -------
    dict
        ``{term: weighted scalar}`` for the names in :data:`TERMS`; their sum is the loss.
    """
    grad = gradient(pred, coords)
    phi = pred[:, 0]
    on = on_surface.to(pred.dtype)
    cos = F.cosine_similarity(grad, normals, dim=-1)
    return {
        "on_surface": WEIGHTS["on_surface"] * (on * phi.abs()).mean(),
        "off_surface": WEIGHTS["off_surface"] * ((1 - on) * torch.exp(-100.0 * phi.abs())).mean(),
        "normal": WEIGHTS["normal"] * (on * (1 - cos)).mean(),
        "eikonal": WEIGHTS["eikonal"] * (grad.norm(dim=-1) - 1).abs().mean(),
    }


def _build(name: str, cfg: SDFConfig) -> torch.nn.Module:
    """SIREN (omega_0 = 30) or ReLU on a 10-octave positional encoding, 3 -> 1."""
    return build_model(name, 3, 1, hidden_features=cfg.hidden_features,
                       hidden_layers=cfg.hidden_layers, pe_frequencies=cfg.pe_frequencies)


def grid_points(resolution: int) -> np.ndarray:
    """``(r, r, r, 3)`` nodes of the regular grid on ``[-1, 1]^3`` (indexing ``ij``: x, y, z)."""
    axis = np.linspace(-1.0, 1.0, resolution)
    return np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), -1)


def evaluate_grid(model: torch.nn.Module, resolution: int, device, chunk: int = 65_536):
    """``Phi`` on the :func:`grid_points` of ``resolution`` (no gradients), float32."""
    grid = torch.from_numpy(grid_points(resolution).reshape(-1, 3).astype(np.float32))
    out = []
    with torch.no_grad():
        for part in grid.split(chunk):
            out.append(model(part.to(device)).float().cpu())
    return torch.cat(out).reshape(resolution, resolution, resolution).numpy()


def extract_surface(volume: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Zero level set of a grid SDF on ``[-1, 1]^3`` by marching cubes; ``(verts, faces)``.

    Empty arrays when the volume has no sign change (no surface)."""
    if not (volume.min() < 0.0 < volume.max()):
        return np.zeros((0, 3)), np.zeros((0, 3), dtype=np.int64)
    spacing = (2.0 / (volume.shape[0] - 1),) * 3
    verts, faces, _, _ = marching_cubes(volume, level=0.0, spacing=spacing)
    return verts - 1.0, faces


def surface_metrics(
    model: torch.nn.Module, volume: np.ndarray, shape: Shape, surf_pts: np.ndarray,
    surf_nrm: np.ndarray, box_pts: np.ndarray, device,
) -> dict[str, float]:
    """The four accuracy measures of the module docstring for one trained model."""
    verts, _ = extract_surface(volume)
    if len(verts):
        accuracy = float(np.mean(np.abs(shape.sdf(verts))))
        completeness = float(np.mean(cKDTree(verts).query(surf_pts)[0]))
    else:
        accuracy = completeness = float("nan")
    true = shape.sdf(grid_points(volume.shape[0]))
    near = np.abs(true) < 0.1
    sdf_err = float(np.mean(np.abs(volume[near] - true[near])))

    def grads(pts: np.ndarray) -> np.ndarray:
        x = torch.as_tensor(pts, dtype=torch.float32, device=device).requires_grad_(True)
        return gradient(model(x), x, create_graph=False).detach().cpu().numpy()

    g_box, g_surf = grads(box_pts), grads(surf_pts)
    cos = np.sum(g_surf * surf_nrm, -1) / np.maximum(np.linalg.norm(g_surf, axis=-1), 1e-12)
    return {
        "chamfer": 0.5 * (accuracy + completeness), "accuracy": accuracy,
        "completeness": completeness, "sdf_err_near": sdf_err,
        "eikonal_err": float(np.mean(np.abs(np.linalg.norm(g_box, axis=-1) - 1.0))),
        "normal_err_deg": float(np.degrees(np.mean(np.arccos(np.clip(cos, -1.0, 1.0))))),
        "n_vertices": float(len(verts)),
    }


METRICS = ("chamfer", "accuracy", "completeness", "sdf_err_near", "eikonal_err",
           "normal_err_deg", "n_vertices")


def train_one(name: str, cfg: SDFConfig, cloud: tuple[np.ndarray, np.ndarray], seed: int,
              device, progress: bool | None = None):
    """Fit one model to the point cloud; returns ``(model, history)``.

    Each step draws ``cfg.points`` cloud points (with replacement, like the official loader's
    random choice) and as many uniform points in ``[-1, 1]^3``, then takes one Adam step on
    :func:`sdf_loss` with the gradient norm clipped to ``cfg.clip`` (official
    ``train_sdf.py``: ``clip_grad=True`` means ``max_norm = 1``).
    """
    gen = seed_everything(seed)
    model = _build(name, cfg).to(device)
    pts, nrm = (torch.from_numpy(a).to(device) for a in cloud)
    n = cfg.points
    on_surface = (torch.arange(2 * n) < n).to(device)
    params = list(model.parameters())
    opt = make_adam(params, cfg.lr)
    # fit() calls backward() then opt.step(): clip in a pre-step hook, between the two.
    clip = torch.nn.utils.clip_grad_norm_
    opt.register_step_pre_hook(lambda *_: (clip(params, cfg.clip), None)[1])

    def step():
        idx = torch.randint(0, pts.shape[0], (n,), generator=gen).to(device)
        off = (torch.rand(n, 3, generator=gen) * 2 - 1).to(device)
        coords = torch.cat([pts[idx], off]).requires_grad_(True)
        normals = torch.cat([nrm[idx], torch.zeros_like(off)])
        terms = sdf_loss(model(coords), coords, normals, on_surface)
        loss = torch.stack(list(terms.values())).sum()
        return loss, {k: float(v.detach()) for k, v in terms.items()}

    hist = fit(params, step, cfg.steps, cfg.lr, desc=f"{name} s{seed}", progress=progress,
               optimizer=opt)
    return model, hist


def run(
    cfg: SDFConfig, *, progress: bool | None = None, device: str | torch.device | None = None
) -> xr.Dataset:
    """Fit every model of ``cfg`` for every seed and measure its surface; return the record.

    Returns
    -------
    xarray.Dataset
        ``loss(method, seed, step)``, ``loss_term(method, seed, term, step)``, each metric of
        :data:`METRICS` as ``(method, seed)``, ``wall_s(method, seed)``, ``params(method)``,
        the grid SDF ``volume(method, i, j, k)`` of the first seed and the exact
        ``target_volume(i, j, k)`` on the same grid.
    """
    dev = torch.device(device) if device is not None else default_device()
    shape = make_shape(cfg.shape)
    cloud = shape.sample_surface(cfg.cloud_points, rng=10_000)
    surf_pts = shape.sample_surface(cfg.eval_points, rng=10_001)[0]
    surf_nrm = shape.normal(surf_pts)  # exact normals of the held-out points
    box_pts = np.random.default_rng(10_002).uniform(-1, 1, (cfg.eval_points, 3)).astype(np.float32)
    r, axis = cfg.resolution, np.linspace(-1.0, 1.0, cfg.resolution)
    target = shape.sdf(grid_points(r))

    shape_ms = (len(cfg.models), len(cfg.seeds))
    losses = np.full((*shape_ms, cfg.steps), np.nan)
    terms = np.full((*shape_ms, len(TERMS), cfg.steps), np.nan)
    metrics, walls = {m: np.full(shape_ms, np.nan) for m in METRICS}, np.full(shape_ms, np.nan)
    volumes = np.zeros((len(cfg.models), r, r, r), dtype=np.float32)
    n_params = np.zeros(len(cfg.models), dtype=np.int64)

    for i, name in enumerate(cfg.models):
        for j, seed in enumerate(cfg.seeds):
            start = time.perf_counter()
            model, hist = train_one(name, cfg, cloud, seed, dev, progress)
            walls[i, j] = time.perf_counter() - start
            n_params[i] = sum(p.numel() for p in model.parameters())
            losses[i, j], terms[i, j] = hist.loss, [hist.metrics[t] for t in TERMS]
            volume = evaluate_grid(model, r, dev)
            got = surface_metrics(model, volume, shape, surf_pts, surf_nrm, box_pts, dev)
            for key, value in got.items():
                metrics[key][i, j] = value
            if j == 0:
                volumes[i] = volume

    ms, vol = ("method", "seed"), ("i", "j", "k")
    units = dict.fromkeys(METRICS[:4], "box units") | {"normal_err_deg": "deg"}
    data = {k: (ms, v, {"units": units.get(k, "")}) for k, v in metrics.items()}
    data |= {
        "loss": (("method", "seed", "step"), losses, {"long_name": "total SDF loss (Sec. 4.2)"}),
        "loss_term": (("method", "seed", "term", "step"), terms),
        "wall_s": (ms, walls, {"units": "s"}),
        "params": (("method",), n_params),
        "volume": (("method", *vol), volumes, {"long_name": "Phi on the grid, first seed"}),
        "target_volume": (vol, target.astype(np.float32), {"long_name": "exact SDF"}),
    }
    return xr.Dataset(
        data,
        coords={"method": list(cfg.models), "seed": list(cfg.seeds), "term": list(TERMS),
                "step": np.arange(cfg.steps), "i": axis, "j": axis, "k": axis},
        attrs={"shape": cfg.shape},
    )


def run_and_record(cfg: SDFConfig, profile: str, *, progress: bool | None = None):
    """:func:`run`, save the record ``siren/sdf`` of ``profile``; returns ``(ds, path)``."""
    return shared_run_and_record(
        run, cfg, paper="siren", experiment="sdf", profile=profile, progress=progress,
    )


# --------------------------------------------------------------------------- figures


def _shaded(verts: np.ndarray, faces: np.ndarray, colour: str) -> np.ndarray:
    """Two-sided Lambert shading of each face under a fixed light (RGB per face)."""
    tri = verts[faces]
    n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    n /= np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)
    light = np.array([0.4, -0.6, 0.7]) / np.linalg.norm([0.4, -0.6, 0.7])
    return np.clip(np.outer(0.25 + 0.75 * np.abs(n @ light), to_rgb(colour)) + 0.1, 0, 1)


def plot_meshes(ds: xr.Dataset, *, max_faces: int = 120_000, elev: float = 28.0,
                azim: float = -55.0) -> plt.Figure:
    """Zero level sets of the exact SDF and of each model (first seed), same view and box.

    Marching cubes on the record's grid; a mesh with more than ``max_faces`` faces is drawn
    from every second grid node (drawing only; the metrics use the full grid).
    """
    panels = [("exact SDF", ds["target_volume"].values, "#bbbbbb", "")]
    for m in map(str, ds["method"].values):
        cd = float(ds["chamfer"].sel({"method": m}).isel(seed=0))
        panels.append((label(m), ds["volume"].sel({"method": m}).values, METHOD_COLOURS[m],
                       f"\nChamfer {cd:.4f}"))
    fig = plt.figure(figsize=(3.3 * len(panels), 3.6))
    for p, (title, vol, colour, extra) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), p + 1, projection="3d")
        verts, faces = extract_surface(vol)
        if len(faces) > max_faces:
            verts, faces = extract_surface(vol[::2, ::2, ::2])
        if len(faces):
            ax.add_collection3d(Poly3DCollection(
                verts[faces], facecolors=_shaded(verts, faces, colour), linewidths=0))
        ax.set(xlim=(-1, 1), ylim=(-1, 1), zlim=(-1, 1), xlabel="x", ylabel="y", zlabel="z",
               title=title + extra if len(faces) else f"{title}\n(no zero level set)")
        ax.set_box_aspect((1, 1, 1))
        ax.view_init(elev=elev, azim=azim)
        ax.tick_params(labelsize=6)
    fig.suptitle(f"zero level set on a {ds.sizes['i']}³ grid (marching cubes), box [-1, 1]³")
    return fig


def plot_slices(ds: xr.Dataset, z: float = -0.15) -> plt.Figure:
    """The SDF on the grid plane nearest to ``z``: exact, each model, and their errors.

    Row 1: ``Phi`` on the exact SDF's symmetric colour scale, zero level set solid, true surface
    dashed. Row 2: ``|Phi - SDF|`` on one shared scale (99th percentile of all panels).
    """
    k = int(np.argmin(np.abs(ds["k"].values - z)))
    truth = ds["target_volume"].values[:, :, k].T
    methods = [str(m) for m in ds["method"].values]
    fields = [ds["volume"].sel({"method": m}).values[:, :, k].T for m in methods]
    errors = [np.abs(f - truth) for f in fields]
    lim = float(np.abs(truth).max())
    emax = float(max(np.percentile(e, 99) for e in errors)) or 1.0
    ext = (-1, 1, -1, 1)
    fig, axes = plt.subplots(2, len(methods) + 1, figsize=(2.7 * len(methods) + 3.6, 5.4),
                             layout="constrained")
    for c, (title, f) in enumerate(zip(["exact SDF", *map(label, methods)], [truth, *fields],
                                       strict=True)):
        ax = axes[0, c]
        im = ax.imshow(f, origin="lower", extent=ext, cmap="RdBu_r", vmin=-lim, vmax=lim)
        ax.contour(f, [0.0], colors="k", linewidths=0.8, extent=ext)
        ax.contour(truth, [0.0], colors="k", linewidths=0.6, linestyles="--", extent=ext)
        ax.set(title=title, xlabel="x", ylabel="y")
        ax.grid(False)
    fig.colorbar(im, ax=axes[0].tolist(), label="Φ (box units)")
    axes[1, 0].axis("off")
    axes[1, 0].text(0.5, 0.5, f"plane z = {ds['k'].values[k]:.2f}\nsolid: Φ = 0\n"
                    "dashed: true surface", ha="center", va="center")
    for c, (m, e) in enumerate(zip(methods, errors, strict=True), start=1):
        im = axes[1, c].imshow(e, origin="lower", extent=ext, cmap="magma", vmin=0, vmax=emax)
        axes[1, c].set(title=f"|Φ − SDF|, {label(m)}", xlabel="x", ylabel="y")
        axes[1, c].grid(False)
    fig.colorbar(im, ax=axes[1].tolist(), label="|Φ − SDF| (box units)")
    return fig
