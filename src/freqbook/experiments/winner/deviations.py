"""Where the official code and the paper differ: one small ablation each (``papers/winner.md``
Sec. 3.1; record ``winner/deviations``).

* ``decay_a`` - code: audio ``a = 7``; alternative: the paper's ``a = 5``.
* ``centroid`` - code: image centroid of the flattened raster; alternative: per row (the
  function's 2-D branch).
* ``channels`` - code: ``/C`` twice (RGB: ``psi / 9`` overall); alternative: ``/C`` once.
* ``first_omega`` - code: SIREN² first ``omega_0 = 30`` (noise ``N(0, s0^2)`` on ``30 U(-1, 1)``
  rad per unit t); alternative: SIREN's ``omega_0 = 3000`` with the same ``N(0, s0^2)``.
* ``best_epoch`` - reported: the max PSNR over epochs, while the saved model is the last epoch's
  (the code's "best model" restore is a no-op); alternative: the final-epoch PSNR.

Each ablation trains SIREN² with the code's and the alternative setting on small targets (audio
windows of tetris and bach, image crops) and records peak and final PSNR; ``effect`` is the
alternative minus the code, averaged over the targets. ``best_epoch`` needs no extra training: it is
the final-minus-peak gap of every fit made here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from freqbook import profiles
from freqbook.experiments.winner.audio_runs import prepare_clip
from freqbook.experiments.winner.common import (
    CLIP_FILES,
    CONV_WINNER,
    IMAGE_FILES,
    NetSpec,
    audio_noise,
    build_method,
    image_noise,
    load_clip,
    load_image_target,
    train,
)
from freqbook.experiments.winner.image_table import crop_target
from freqbook.models.siren import build_model
from freqbook.models.winner import perturb_
from freqbook.results.record import run_and_record as _record
from freqbook.train import seed_everything

DEVIATIONS = ("decay_a", "centroid", "channels", "first_omega", "best_epoch")


@dataclass(frozen=True)
class DeviationsConfig:
    """Settings (one instance per profile, :data:`PROFILES`).

    Attributes
    ----------
    clips, images
        Audio clips of the ``decay_a`` / ``first_omega`` ablations; grey images of ``centroid``
        (``channels`` always uses the RGB castle).
    window, crop
        Audio window (samples) and image crop side; ``None``: the whole target.
    width_audio, width_image, steps_audio, steps_image
        Network widths (4 sine layers audio, 5 image) and full-batch steps.
    seeds
        Seeds of every fit.
    """

    clips: tuple[str, ...] = ("tetris", "bach")
    images: tuple[str, ...] = ("camera", "rock")
    window: int | None = None
    crop: int | None = None
    width_audio: int = 222
    width_image: int = 256
    steps_audio: int = 1000
    steps_image: int = 4000
    seeds: tuple[int, ...] = (0,)


PROFILES: dict[str, DeviationsConfig] = {
    "smoke": DeviationsConfig(clips=("tetris",), images=("camera",), window=1024, crop=24,
                              width_audio=48, width_image=48, steps_audio=50, steps_image=30),
    "cpu": DeviationsConfig(window=2205, crop=48, width_audio=96, width_image=64,
                            steps_audio=150, steps_image=150, seeds=(0, 1)),
    "paper": DeviationsConfig(),
}


def config_for(profile: str, seed: int = 0) -> DeviationsConfig:
    """The profile's config, seeds starting at ``seed`` (:func:`freqbook.profiles.config_for`)."""
    return profiles.config_for(PROFILES, profile, seed)


def _fit(model, coords, y, steps, gamma, desc, progress):
    res = train(model, coords, y, steps=steps, lr=1e-4, gamma=gamma, desc=desc, progress=progress)
    s = res.summary(y)
    return s["peak_psnr"], s["final_psnr"]


def schedule_tables(cfg: DeviationsConfig) -> xr.Dataset:
    """No training: ``s0`` with ``a = 7`` / ``5`` for every clip; image ``psi``, ``s0``, ``s1`` by
    the flattened and the per-row centroid, and with the channel count divided once / twice."""
    clips = list(CLIP_FILES)
    a7, a5 = zip(*[(audio_noise(load_clip(c)[1], "audio")[1],
                    audio_noise(load_clip(c)[1], "audio_paper")[1]) for c in clips], strict=True)
    images = list(IMAGE_FILES)
    rows = []
    for name in images:
        img = load_image_target(name, None, gray=False)
        rows.append([*image_noise(img, "flat"), *image_noise(img, "rows"),
                     *image_noise(img, "flat", double=False)[1:], img.shape[-1]])
    rows = np.array(rows)
    return xr.Dataset(
        {"s0_a7": (("clip",), np.array(a7)), "s0_a5": (("clip",), np.array(a5)),
         "psi_flat": (("image",), rows[:, 0]), "s0_flat": (("image",), rows[:, 1]),
         "s1_flat": (("image",), rows[:, 2]), "psi_rows": (("image",), rows[:, 3]),
         "s0_rows": (("image",), rows[:, 4]), "s1_rows": (("image",), rows[:, 5]),
         "s0_single_c": (("image",), rows[:, 6]), "s1_single_c": (("image",), rows[:, 7]),
         "channels": (("image",), rows[:, 8].astype(int))},
        coords={"clip": clips, "image": images})


def run(cfg: DeviationsConfig, *, progress: bool | None = None) -> xr.Dataset:
    """Every ablation; see the module docstring.

    Returns
    -------
    xarray.Dataset
        Per fit (``run`` dimension, labelled ``deviation/variant/target/seed``): ``deviation``,
        ``variant`` (``code`` or ``alternative``), ``target``, ``seed``, ``s0``, ``s1``,
        ``peak_psnr``, ``final_psnr``; per ``deviation``: ``effect`` (alternative minus code, peak
        PSNR, mean over targets and seeds; for ``best_epoch``: final minus peak over all fits);
        plus the tables of :func:`schedule_tables`.
    """
    fits: list[dict] = []

    def record(dev, variant, target, seed, s0, s1, psnrs):
        fits.append({"deviation": dev, "variant": variant, "target": target, "seed": seed,
                     "s0": s0, "s1": s1, "peak_psnr": psnrs[0], "final_psnr": psnrs[1]})

    a_spec = NetSpec(cfg.width_audio, 3, 3000.0)
    i_spec = NetSpec(cfg.width_image, 4, 30.0)
    for clip in cfg.clips:
        d = prepare_clip(clip, cfg.window)
        _, s0_5, s1_5 = audio_noise(load_clip(clip)[1], "audio_paper")
        for seed in cfg.seeds:
            runs = {("decay_a", "code"): (d["s0"], d["s1"]),
                    ("decay_a", "alternative"): (s0_5, s1_5)}
            for (dev, variant), (s0, s1) in runs.items():
                seed_everything(seed)
                model = build_method("winner", 1, 1, a_spec, s0=s0, s1=s1)
                record(dev, variant, clip, seed, s0, s1,
                       _fit(model, d["coords"], d["target"], cfg.steps_audio, 0.99,
                            f"{clip} {dev} {variant}", progress))
            # first_omega: code = the decay_a 'code' fit; alternative = SIREN's 3000 + same noise
            fits.append({**fits[-2], "deviation": "first_omega"})
            seed_everything(seed)
            model = build_model("siren", 1, 1, hidden_features=cfg.width_audio, hidden_layers=3,
                                first_omega_0=3000.0, hidden_omega_0=30.0)
            perturb_(model, d["s0"] * 30.0 / 3000.0, d["s1"])  # W0 noise: N(0, s0^2) rad/unit
            record("first_omega", "alternative", clip, seed, d["s0"], d["s1"],
                   _fit(model, d["coords"], d["target"], cfg.steps_audio, 0.99,
                        f"{clip} first_omega alternative", progress))
    image_runs = [("centroid", name, mode, True) for name in cfg.images
                  for mode in ("flat", "rows")]
    image_runs += [("channels", "castle", "flat", double) for double in (True, False)]
    for dev, name, mode, double in image_runs:
        img, coords, (_, s0, s1) = crop_target(name, cfg.crop, mode, double)
        variant = "code" if (mode == "flat" and double) else "alternative"
        for seed in cfg.seeds:
            seed_everything(seed)
            model = build_method("winner", 2, img.shape[-1], i_spec, s0=s0, s1=s1)
            record(dev, variant, name, seed, s0, s1,
                   _fit(model, coords, img.reshape(-1, img.shape[-1]), cfg.steps_image, 0.998,
                        f"{name} {dev} {variant}", progress))
    labels = [f"{f['deviation']}/{f['variant']}/{f['target']}/{f['seed']}" for f in fits]
    ds = xr.Dataset({k: (("run",), np.array([f[k] for f in fits]))
                     for k in ("deviation", "variant", "target", "seed", "s0", "s1",
                               "peak_psnr", "final_psnr")}, coords={"run": labels})
    ds["peak_psnr"].attrs = ds["final_psnr"].attrs = {"units": "dB", "convention": CONV_WINNER}
    devs = np.array([f["deviation"] for f in fits])
    variants = np.array([f["variant"] for f in fits])
    peak, final = ds["peak_psnr"].values, ds["final_psnr"].values
    effect = []
    for dev in DEVIATIONS:
        if dev == "best_epoch":
            effect.append(float(np.mean(final - peak)))
            continue
        alt = peak[(devs == dev) & (variants == "alternative")]
        code = peak[(devs == dev) & (variants == "code")]
        effect.append(float(alt.mean() - code.mean()) if alt.size and code.size else np.nan)
    ds["effect"] = (("deviation_name",), np.array(effect),
                    {"units": "dB", "long_name": "alternative - code (peak PSNR); best_epoch: "
                     "final - peak"})
    ds = ds.assign_coords(deviation_name=list(DEVIATIONS))
    return xr.merge([ds, schedule_tables(cfg)])


def run_and_record(cfg: DeviationsConfig, profile: str, *, progress: bool | None = None):
    """:func:`run` and save the record ``winner/deviations``; returns ``(ds, path)``."""
    return _record(run, cfg, paper="winner",
                   experiment="deviations", profile=profile, progress=progress)


def fits_table(ds: xr.Dataset):
    """Peak and final PSNR per ablation, variant and target, mean over seeds."""
    df = ds[["deviation", "variant", "target", "s0", "s1", "peak_psnr", "final_psnr"]] \
        .to_dataframe().reset_index(drop=True)
    return df.groupby(["deviation", "target", "variant"]).mean(numeric_only=True)


def audio_schedule_table(ds: xr.Dataset):
    """Per clip: ``s0`` with the code's ``a = 7`` and the paper's ``a = 5`` (a Styler)."""
    df = ds[["s0_a7", "s0_a5"]].to_dataframe()
    df["change"] = df["s0_a5"] / df["s0_a7"] - 1
    df.columns = ["s0, a = 7 (code)", "s0, a = 5 (paper)", "change"]
    return df.style.format({"s0, a = 7 (code)": "{:.0f}", "s0, a = 5 (paper)": "{:.0f}",
                            "change": "{:+.1%}"}).set_caption(
        "Audio noise scale s0 by the decay constant a (whole 150 000-sample targets)")


def image_schedule_table(ds: xr.Dataset):
    """Per image: centroid and noise scales, flattened vs per-row centroid, C divided once."""
    cols = {"channels": "C", "psi_flat": "ψ flattened (code)", "psi_rows": "ψ per row",
            "s0_flat": "s0 (code)", "s0_rows": "s0 per row", "s0_single_c": "s0, C once",
            "s1_flat": "s1 (code)", "s1_rows": "s1 per row", "s1_single_c": "s1, C once"}
    df = ds[list(cols)].to_dataframe().rename(columns=cols)
    fmt = {v: ("{:.0f}" if k == "channels" else "{:.1f}" if k.startswith("s0") else "{:.3f}")
           for k, v in cols.items()}
    return df.style.format(fmt).set_caption(
        "Image noise scales by centroid mode and channel division (whole native images)")


def fits_styler(ds: xr.Dataset):
    """:func:`fits_table` with readable headers and one decimal."""
    df = fits_table(ds).rename(columns={"peak_psnr": "peak PSNR (dB)",
                                        "final_psnr": "final PSNR (dB)"})
    return df.style.format({"s0": "{:.0f}", "s1": "{:.3f}", "peak PSNR (dB)": "{:.1f}",
                            "final PSNR (dB)": "{:.1f}"}).set_caption(
        "Peak and final PSNR (WINNER convention), mean over seeds")
