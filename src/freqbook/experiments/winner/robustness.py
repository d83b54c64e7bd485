"""Robustness of WINNER to its noise scales (artefact F-heat of ``papers/winner.md``, paper Fig. 3;
record ``winner/robustness``).

SIREN² is trained with *manual* ``(s0, s1)`` over a grid - bypassing the centroid schedule, as the
paper's heat-maps need (spec Sec. 5.1) - on one audio window (tetris) and one image crop (camera),
plus once at the schedule's own ``(s0, s1)``. The paper's grid is not known; ours spans 0 to the
schedule's maximum for ``s0`` (3 500 audio, 50 image) and 0 to ``b`` for ``s1`` (3 and 0.4).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from freqbook import profiles
from freqbook.experiments.winner.audio_runs import prepare_clip
from freqbook.experiments.winner.common import (
    CONV_WINNER,
    NetSpec,
    build_method,
    check_names,
    train,
)
from freqbook.experiments.winner.image_table import crop_target
from freqbook.results.record import run_and_record as _record
from freqbook.train import seed_everything

TARGETS = ("tetris", "camera")


@dataclass(frozen=True)
class RobustnessConfig:
    """Settings (one instance per profile, :data:`PROFILES`).

    Attributes
    ----------
    s0_audio, s1_audio, s0_image, s1_image
        Grid values of the two noise scales per modality.
    window, crop
        Audio window (samples) and image crop (side); ``None``: the whole target.
    width_audio, width_image, steps_audio, steps_image
        Network widths (4 sine layers audio, 5 image) and full-batch steps.
    seed
        One seed per grid cell.
    """

    s0_audio: tuple[float, ...] = (0.0, 500.0, 1000.0, 1500.0, 2000.0, 2500.0, 3000.0, 3500.0)
    s1_audio: tuple[float, ...] = (0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0)
    s0_image: tuple[float, ...] = (0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0)
    s1_image: tuple[float, ...] = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)
    window: int | None = None
    crop: int | None = None
    width_audio: int = 222
    width_image: int = 256
    steps_audio: int = 1000
    steps_image: int = 4000
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("s0_audio", "s1_audio", "s0_image", "s1_image"):
            if len(getattr(self, name)) < 2 or min(getattr(self, name)) < 0:
                raise ValueError(f"{name} needs at least two non-negative values")


PROFILES: dict[str, RobustnessConfig] = {
    "smoke": RobustnessConfig(s0_audio=(0.0, 3500.0), s1_audio=(0.0, 3.0), s0_image=(0.0, 50.0),
                              s1_image=(0.0, 0.4), window=1024, crop=24, width_audio=48,
                              width_image=48, steps_audio=60, steps_image=40),
    "cpu": RobustnessConfig(s0_audio=(0.0, 875.0, 1750.0, 2625.0, 3500.0),
                            s1_audio=(0.0, 0.75, 1.5, 2.25, 3.0),
                            s0_image=(0.0, 12.5, 25.0, 37.5, 50.0),
                            s1_image=(0.0, 0.1, 0.2, 0.3, 0.4), window=2205, crop=48,
                            width_audio=64, width_image=64, steps_audio=150, steps_image=150),
    "paper": RobustnessConfig(),
}


def config_for(profile: str, seed: int = 0) -> RobustnessConfig:
    """The profile's config, seeds starting at ``seed`` (:func:`freqbook.profiles.config_for`)."""
    return profiles.config_for(PROFILES, profile, seed)


def _target(name: str, cfg: RobustnessConfig):
    """``(coords, target, s0, s1, in_features, spec, steps, gamma)`` of one target."""
    check_names("target", [name], TARGETS)
    if name == "tetris":
        d = prepare_clip("tetris", cfg.window)
        spec = NetSpec(cfg.width_audio, 3, 3000.0)
        return d["coords"], d["target"], d["s0"], d["s1"], 1, spec, cfg.steps_audio, 0.99
    img, coords, (_, s0, s1) = crop_target("camera", cfg.crop)
    spec = NetSpec(cfg.width_image, 4, 30.0)
    return coords, img.reshape(-1, img.shape[-1]), s0, s1, 2, spec, cfg.steps_image, 0.998


def run(cfg: RobustnessConfig, *, progress: bool | None = None) -> xr.Dataset:
    """Peak PSNR (WINNER convention) over each target's ``(s0, s1)`` grid and at its schedule.

    Returns
    -------
    xarray.Dataset
        ``audio_psnr(s0_a, s1_a)``, ``image_psnr(s0_i, s1_i)``; per ``target``: ``schedule_s0``,
        ``schedule_s1``, ``schedule_psnr``, ``best_psnr`` (grid maximum), ``schedule_gap``
        (best - schedule), ``no_noise_psnr`` (s0 = s1 = 0) and ``robust_fraction`` (share of grid
        cells with ``s0 > 0`` within 3 dB of the best).
    """
    grids, per_target = {}, {k: [] for k in ("schedule_s0", "schedule_s1", "schedule_psnr",
                                             "best_psnr", "schedule_gap", "no_noise_psnr",
                                             "robust_fraction")}
    for name, (s0s, s1s) in zip(TARGETS, ((cfg.s0_audio, cfg.s1_audio),
                                          (cfg.s0_image, cfg.s1_image)), strict=True):
        coords, y, s0_sched, s1_sched, in_f, spec, steps, gamma = _target(name, cfg)

        def peak(s0: float, s1: float, spec=spec, in_f=in_f, coords=coords, y=y, steps=steps,
                 gamma=gamma, name=name) -> float:
            seed_everything(cfg.seed)
            model = build_method("winner", in_f, y.shape[-1] if y.ndim > 1 else 1, spec,
                                 s0=s0, s1=s1)
            res = train(model, coords, y, steps=steps, lr=1e-4, gamma=gamma,
                        desc=f"{name} s0={s0:g} s1={s1:g}", progress=progress)
            return float(np.nanmax(res.psnr))

        grid = np.array([[peak(a, b) for b in s1s] for a in s0s])
        grids[name] = grid
        sched = peak(s0_sched, s1_sched)
        best = float(grid.max())
        noisy = grid[np.asarray(s0s) > 0]
        for key, val in (("schedule_s0", s0_sched), ("schedule_s1", s1_sched),
                         ("schedule_psnr", sched), ("best_psnr", best),
                         ("schedule_gap", best - sched), ("no_noise_psnr", float(grid[0, 0])),
                         ("robust_fraction", float(np.mean(noisy >= best - 3.0)))):
            per_target[key].append(val)
    db = {"units": "dB", "convention": CONV_WINNER + "; peak over steps"}
    variables = {
        "audio_psnr": (("s0_a", "s1_a"), grids["tetris"], db),
        "image_psnr": (("s0_i", "s1_i"), grids["camera"], db),
    }
    for key, vals in per_target.items():
        variables[key] = (("target",), np.array(vals), db if "psnr" in key or "gap" in key else {})
    return xr.Dataset(variables, coords={"s0_a": list(cfg.s0_audio), "s1_a": list(cfg.s1_audio),
                                         "s0_i": list(cfg.s0_image), "s1_i": list(cfg.s1_image),
                                         "target": list(TARGETS)})


def run_and_record(cfg: RobustnessConfig, profile: str, *, progress: bool | None = None):
    """:func:`run` and save the record ``winner/robustness``; returns ``(ds, path)``."""
    from freqbook.experiments.winner.audio_runs import clip_sha as _clip_sha

    return _record(run, cfg, paper="winner",
                   experiment="robustness", profile=profile, progress=progress,
                   data_sha256=lambda: _clip_sha(["tetris"]))


def plot_heatmaps(ds: xr.Dataset):
    """Peak PSNR over the two grids; a star marks the schedule's ``(s0, s1)``."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9.4, 3.8))
    for ax, (var, s0, s1, tgt) in zip(axes, (("audio_psnr", "s0_a", "s1_a", "tetris"),
                                             ("image_psnr", "s0_i", "s1_i", "camera")),
                                      strict=True):
        grid = ds[var].values
        im = ax.imshow(grid, origin="lower", aspect="auto", cmap="viridis")
        ax.set_xticks(range(ds.sizes[s1]), [f"{v:g}" for v in ds[s1].values])
        ax.set_yticks(range(ds.sizes[s0]), [f"{v:g}" for v in ds[s0].values])
        for (i, j), v in np.ndenumerate(grid):
            ax.text(j, i, f"{v:.0f}", ha="center", va="center", fontsize=7, color="w")
        x = np.interp(float(ds["schedule_s1"].sel(target=tgt)), ds[s1].values,
                      np.arange(ds.sizes[s1]))
        y = np.interp(float(ds["schedule_s0"].sel(target=tgt)), ds[s0].values,
                      np.arange(ds.sizes[s0]))
        ax.plot(x, y, "*", color="r", ms=12,
                label=f"schedule: {float(ds['schedule_psnr'].sel(target=tgt)):.1f} dB")
        ax.set_xlabel("s1")
        ax.set_ylabel("s0")
        ax.set_title(f"{tgt}: peak PSNR (dB, WINNER conv.)", fontsize=9)
        ax.legend(fontsize=7, loc="upper right")
        fig.colorbar(im, ax=ax)
    fig.tight_layout()
    return fig
