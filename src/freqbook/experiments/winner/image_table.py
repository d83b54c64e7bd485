"""The image-fitting table (artefact T-image of ``papers/winner.md``; record ``winner/image``).

Images of ``learn_images.py``: camera (scikit-image's, byte-identical to the repo's), castle (RGB),
rock, braided and noise1, in [-1, 1] on the code's ``meshgrid(..., indexing="ij")`` coordinates.
Methods as in the audio table but with the image network (5 sine layers, ``omega_0 = 30`` for SIREN
too) and the image schedule ``s0 = 50 (1 - exp(-5 psi/C))``, ``s1 = 0.4 psi/C`` with the centroid of
the flattened raster (code path), computed on the whole native image.

The ``cpu`` and ``smoke`` profiles fit a centred **crop** on the whole image's coordinates - the
image analogue of an audio window: same pixel spacing, so the same frequencies per unit coordinate
as the paper's task. (Down-sampling instead would change the task: an anti-aliased 64² noise1 is
almost flat.)

``paper`` profile: native resolution (512², braided 400²), width 256, 4 000 epochs, Adam 1e-4,
``StepLR(20, 0.998)``; full batch (the code uses 512² batches for SIREN/SIREN² - full batch - and
256² for WIRE/Gauss/ReLU + P.E.).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from freqbook import profiles
from freqbook.experiments.winner.common import (
    CONV_SIREN,
    CONV_WINNER,
    IMAGE_FILES,
    LABELS,
    METHODS,
    NetSpec,
    build_method,
    check_names,
    image_coords,
    image_noise,
    load_image_target,
    train,
)
from freqbook.experiments.winner.tables import README_CAUTION, method_table, paper_values_note
from freqbook.results.record import run_and_record as _record
from freqbook.train import seed_everything

#: indicative values (long-paper draft, withdrawn chatbot-written README section; MLP 4 x 256;
#: peak PSNR dB) - shown, never judged
PAPER_VALUES = {("noise1", "winner"): 36.1, ("noise1", "siren"): 21.3,
                ("camera", "winner"): 44.9, ("camera", "siren"): 38.9}


@dataclass(frozen=True)
class ImageTableConfig:
    """Settings of the image table (one instance per profile, :data:`PROFILES`).

    Attributes
    ----------
    images, crop
        Images (:data:`~.common.IMAGE_FILES`) and the side of the centred square crop that is
        fitted (``None``: the whole native image).
    hidden_features, hidden_layers
        Width and hidden-to-hidden layers (code: 256 and 4, i.e. 5 sine layers).
    steps, lr, gamma
        Full-batch steps (= epochs), learning rate, ``StepLR(20, gamma)`` factor.
    seeds, methods, single_seed
        Seeds; methods; methods run on the first seed only.
    """

    images: tuple[str, ...] = tuple(IMAGE_FILES)
    crop: int | None = None
    hidden_features: int = 256
    hidden_layers: int = 4
    steps: int = 4000
    lr: float = 1e-4
    gamma: float = 0.998
    seeds: tuple[int, ...] = (0,)
    methods: tuple[str, ...] = METHODS
    single_seed: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_names("images", self.images, IMAGE_FILES)
        check_names("methods", (*self.methods, *self.single_seed), METHODS)


_FIVE = ("siren", "winner", "finer", "wire", "gauss")
PROFILES: dict[str, ImageTableConfig] = {
    "smoke": ImageTableConfig(images=("camera", "noise1"), crop=24, hidden_features=48,
                              hidden_layers=3, steps=40, methods=_FIVE),
    "cpu": ImageTableConfig(crop=64, hidden_features=96, steps=150, seeds=(0, 1, 2),
                            methods=_FIVE, single_seed=("finer", "wire", "gauss")),
    "paper": ImageTableConfig(),
}


def config_for(profile: str, seed: int = 0) -> ImageTableConfig:
    """The profile's config, seeds starting at ``seed`` (:func:`freqbook.profiles.config_for`)."""
    return profiles.config_for(PROFILES, profile, seed)


def crop_target(name: str, crop: int | None, mode: str = "flat", double: bool = True):
    """``(pixels (h, w, C), coords (h w, 2), (psi, s0, s1))`` of the centred ``crop`` of image
    ``name`` on the whole image's coordinates; noise scales from the whole image."""
    img = load_image_target(name, None, gray=False)
    h, w, _ = img.shape
    scales = image_noise(img, mode, double)
    coords = image_coords(h, w).reshape(h, w, 2)
    if crop is not None:
        r0, c0 = (h - crop) // 2, (w - crop) // 2
        img = img[r0 : r0 + crop, c0 : c0 + crop]
        coords = coords[r0 : r0 + crop, c0 : c0 + crop]
    return img, coords.reshape(-1, 2), scales


def run(cfg: ImageTableConfig, *, progress: bool | None = None) -> xr.Dataset:
    """Fit every method on every image and seed.

    Returns
    -------
    xarray.Dataset
        ``peak_psnr``, ``final_psnr`` (WINNER convention), ``final_psnr_siren``, ``wall_s`` and
        ``rel_gain_pct`` (peak PSNR relative to the same seed's SIREN, %) over
        ``(image, method, seed)``; ``psi``, ``s0``, ``s1``, ``channels`` per image; first seed's
        ``fit(image, method, y, x)`` (first channel) and ``target(image, y, x)``; ``psnr`` curves
        ``(image, method, seed, step)``.
    """
    spec = NetSpec(cfg.hidden_features, cfg.hidden_layers, 30.0)
    ni, nm, ns = len(cfg.images), len(cfg.methods), len(cfg.seeds)
    stats = {k: np.full((ni, nm, ns), np.nan) for k in
             ("peak_psnr", "final_psnr", "final_psnr_siren", "wall_s")}
    curves = np.full((ni, nm, ns, cfg.steps), np.nan)
    prepared = [crop_target(name, cfg.crop) for name in cfg.images]
    side = max(t[0].shape[0] for t in prepared)
    fits = np.full((ni, nm, side, side), np.nan)
    target_arr = np.full((ni, side, side), np.nan)
    noise = np.zeros((ni, 3))
    channels = np.zeros(ni, dtype=np.int64)
    for i, (name, (img, coords, scales)) in enumerate(zip(cfg.images, prepared, strict=True)):
        h, w, c = img.shape
        channels[i] = c
        noise[i] = scales
        y = img.reshape(-1, c)
        target_arr[i, :h, :w] = img[..., 0]
        for m, method in enumerate(cfg.methods):
            for j, seed in enumerate(cfg.seeds):
                if j > 0 and method in cfg.single_seed:
                    continue
                seed_everything(seed)
                model = build_method(method, 2, c, spec, s0=noise[i, 1], s1=noise[i, 2],
                                     samples=max(h, w))
                res = train(model, coords, y, steps=cfg.steps, lr=cfg.lr, gamma=cfg.gamma,
                            desc=f"{name} {method} s{seed}", progress=progress)
                curves[i, m, j] = res.psnr
                for k, v in res.summary(y).items():
                    if k in stats:
                        stats[k][i, m, j] = v
                stats["wall_s"][i, m, j] = res.wall_s
                if j == 0:
                    fits[i, m, :h, :w] = res.output.reshape(h, w, c)[..., 0]
    ims = ("image", "method", "seed")
    db_w = {"units": "dB", "convention": CONV_WINNER}
    variables = {
        "psnr": (("image", "method", "seed", "step"), curves, db_w),
        "peak_psnr": (ims, stats["peak_psnr"], db_w),
        "final_psnr": (ims, stats["final_psnr"], db_w),
        "final_psnr_siren": (ims, stats["final_psnr_siren"],
                             {"units": "dB", "convention": CONV_SIREN}),
        "wall_s": (ims, stats["wall_s"], {"units": "s"}),
        "fit": (("image", "method", "y", "x"), fits),
        "target": (("image", "y", "x"), target_arr),
        "psi": (("image",), noise[:, 0]),
        "s0": (("image",), noise[:, 1]),
        "s1": (("image",), noise[:, 2]),
        "channels": (("image",), channels),
    }
    if "siren" in cfg.methods:
        base = stats["peak_psnr"][:, [cfg.methods.index("siren")], :]
        variables["rel_gain_pct"] = (ims, 100.0 * (stats["peak_psnr"] / base - 1.0),
                                     {"units": "%", "long_name": "peak PSNR / SIREN's - 1"})
    return xr.Dataset(variables, coords={"image": list(cfg.images), "method": list(cfg.methods),
                                         "seed": list(cfg.seeds), "step": np.arange(cfg.steps),
                                         "y": np.arange(side), "x": np.arange(side)})


def run_and_record(cfg: ImageTableConfig, profile: str, *, progress: bool | None = None):
    """:func:`run` and save the record ``winner/image``; returns ``(ds, path)``."""
    return _record(run, cfg, paper="winner",
                   experiment="image", profile=profile, progress=progress,
                   data_sha256=lambda: _image_sha(cfg.images))


def _image_sha(images) -> dict[str, str]:
    from freqbook.data import fetch
    from freqbook.results.record import file_sha256

    return {IMAGE_FILES[n]: file_sha256(fetch(IMAGE_FILES[n])) for n in images if IMAGE_FILES[n]}


def psnr_table(ds: xr.Dataset, variable: str = "peak_psnr"):
    """Images x methods, ``mean ± sd`` over seeds (paper values: :func:`paper_note`)."""
    what = {"peak_psnr": "Peak PSNR (dB, WINNER convention)",
            "final_psnr_siren": "Final PSNR (dB, SIREN convention)"}.get(variable, variable)
    return method_table(ds, variable, "image", f"{what}, mean ± sd over seeds.")


def paper_note(ds: xr.Dataset) -> str:
    """The known paper values (long-paper draft, withdrawn README) beside ours, as Markdown."""
    return paper_values_note(ds, "image", PAPER_VALUES, "peak_psnr",
                             "the long-paper draft as summarised in the authors' README",
                             README_CAUTION)


def plot_fits(ds: xr.Dataset):
    """Target and each method's first-seed fit (first channel), one row per image."""
    import matplotlib.pyplot as plt

    images, methods = [str(i) for i in ds["image"].values], [str(m) for m in ds["method"].values]
    fig, axes = plt.subplots(len(images), len(methods) + 1,
                             figsize=(1.6 * (len(methods) + 1), 1.7 * len(images)), squeeze=False)
    for r, name in enumerate(images):
        axes[r, 0].imshow(ds["target"].sel(image=name), cmap="gray", vmin=-1, vmax=1)
        axes[r, 0].set_ylabel(name)
        for k, m in enumerate(methods):
            axes[r, k + 1].imshow(ds["fit"].sel({"image": name, "method": m}), cmap="gray",
                                  vmin=-1, vmax=1)
            if r == 0:
                axes[r, k + 1].set_title(LABELS[m], fontsize=7)
    axes[0, 0].set_title("target", fontsize=7)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig
