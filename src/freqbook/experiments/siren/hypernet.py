"""A prior over SIREN functions: image completion with a hypernetwork (SIREN paper Sec. 4.4,
artefact T-celeba of ``papers/siren.md``; official ``train_img_neural_process.py``).

A set encoder maps the context pixels ``(x, y, value)`` of a face to a latent code ``z``; a
hypernetwork maps ``z`` to all weights of a SIREN; that SIREN is evaluated on every pixel. The
whole chain is trained on many faces with ``MSE + 0.1 mean(z^2) + 100 mean(theta^2)`` and Adam,
each training image seeing a random number (10-199, official ``randint(10, 200)``) of random
context pixels.

Data: the paper uses CelebA 32x32 RGB (1 024 pixels), which is not available offline. Here: the
100 faces of scikit-image's bundled ``skimage.data.lfw_subset()`` (25x25 grey, 625 pixels), a
**different dataset**, split once into 80 training and 20 held-out faces. Values are mapped to
[-1, 1] (as the official CelebA loader does) and every MSE is on that scale, averaged over all
pixels of the image (context pixels included).

Evaluation on the held-out faces at context sizes 6 / 61 / 610 - the paper's 10 / 100 / 1000 of
1 024 pixels scaled to 625 pixels (the same fraction of the image) - and at the raw 10 / 100, each
averaged over several random context draws. Three non-learned baselines: the mean training face
(ignores the context), the mean of the context values (a constant image), and the nearest
context pixel (piecewise-constant interpolation).
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass
from functools import partial

import numpy as np
import torch
import xarray as xr

from freqbook.data.grids import mgrid
from freqbook.nn.hyper import SetHyperSiren, hypernetwork_loss, nearest_fill, sample_context
from freqbook.profiles import config_for as shared_config_for
from freqbook.results import run_and_record as shared_run_and_record
from freqbook.train import default_device, fit, make_adam, seed_everything

METHODS = ("hypernet", "mean_face", "context_mean", "nearest")
METHOD_LABELS = {
    "hypernet": "set encoder + hypernet → SIREN",
    "mean_face": "mean training face",
    "context_mean": "mean of the context",
    "nearest": "nearest context pixel",
}
#: LFW side 25 -> 625 pixels; the paper's 10/100/1000 of 1 024 pixels scaled to 625, and raw 10/100
EVAL_CONTEXTS = (6, 10, 61, 100, 610)


@dataclass(frozen=True)
class HypernetConfig:
    """Settings of the image-completion experiment (one instance per profile).

    Attributes
    ----------
    latent_dim
        Latent size = width of the set encoder and of each hypernetwork MLP (official: 256).
    hidden_features, hidden_layers
        SIREN width and hidden-to-hidden layers (official ``SingleBVPNet``: 256 and 3).
    encoder_layers
        Hidden-to-hidden layers of the set encoder (official: 2).
    encoder_activation
        Set-encoder activation (official ``encoder_nl='sine'``: ``sin(30 .)`` after every layer,
        SIREN init on all layers; ``"relu"`` is the official alternative).
    hyper_layers
        Hidden ReLU layers of each per-parameter hypernetwork MLP (official: 2,
        ``256 -> 256 -> 256 -> numel``).
    epochs, batch_size, lr
        Adam over the training faces (official: 401 epochs, batch 100, lr 5e-5).
    context_range
        Half-open range ``[lo, hi)`` of the number of random context pixels per training image
        (official ``np.random.randint(10, 200)``, i.e. 10-199).
    clip_grad
        Gradient-norm clipping (official ``clip_grad=True``, i.e. max norm 1).
    latent_weight, weight_weight
        Loss weights of ``mean(z^2)`` and ``mean(theta^2)`` (official 0.1 and 100).
    seeds
        Seeds (initialisation and context sampling; the train/test split is fixed).
    eval_contexts, eval_draws
        Context sizes evaluated on held-out faces, and random context draws per face and size.
    n_train
        Faces used for training; the rest of the 100 are held out.
    n_examples
        Held-out faces whose completions are stored for the figure.
    """

    latent_dim: int = 256
    hidden_features: int = 256
    hidden_layers: int = 3
    encoder_layers: int = 2
    encoder_activation: str = "sine"
    hyper_layers: int = 2
    epochs: int = 401
    batch_size: int = 100
    lr: float = 5e-5
    context_range: tuple[int, int] = (10, 200)
    clip_grad: float = 1.0
    latent_weight: float = 0.1
    weight_weight: float = 100.0
    seeds: tuple[int, ...] = (0,)
    eval_contexts: tuple[int, ...] = EVAL_CONTEXTS
    eval_draws: int = 10
    n_train: int = 80
    n_examples: int = 4

    @property
    def steps(self) -> int:
        """Adam steps: ``epochs x ceil(n_train / batch_size)``."""
        return self.epochs * math.ceil(self.n_train / self.batch_size)


# smoke and cpu keep a ReLU set encoder and one hidden hypernetwork layer: with the official sine
# encoder (sin(30 .), SIREN init) the 40-epoch cpu run ends worse than the mean training face at
# small contexts (deviation ``hypernet-encoder-cpu`` of data/deviations/siren.yaml).
PROFILES: dict[str, HypernetConfig] = {
    "smoke": HypernetConfig(latent_dim=64, hidden_features=32, hidden_layers=1, encoder_layers=1,
                            encoder_activation="relu", hyper_layers=1,
                            epochs=15, batch_size=8, lr=1e-3, eval_draws=2),
    "cpu": HypernetConfig(latent_dim=128, hidden_features=64, hidden_layers=2,
                          encoder_activation="relu", hyper_layers=1, epochs=40,
                          batch_size=16, lr=5e-4, seeds=(0, 1, 2), eval_draws=5),
    # Official settings (train_img_neural_process.py) on the 80 LFW training faces.
    "paper": HypernetConfig(),
}


#: the profile's config with its seeds shifted to start at ``seed`` (``config_for(profile, seed)``)
config_for = partial(shared_config_for, PROFILES)


def load_faces(n_train: int = 80) -> tuple[np.ndarray, np.ndarray]:
    """The 100 LFW faces of ``skimage.data.lfw_subset()`` on [-1, 1], split (fixed) train/test.

    Returns ``(train, test)`` float32 arrays of shape ``(n, 25, 25)``.
    """
    from skimage.data import lfw_subset

    faces = lfw_subset()[:100].astype(np.float32) * 2.0 - 1.0  # first 100 are faces
    order = np.random.default_rng(20200617).permutation(len(faces))
    return faces[order[:n_train]], faces[order[n_train:]]


class _ClippedOptimizer:
    """Adam that clips the gradient norm before each step (official ``clip_grad``)."""

    def __init__(self, params: list[torch.nn.Parameter], lr: float, max_norm: float) -> None:
        self.params, self.max_norm = params, max_norm
        self.opt = make_adam(params, lr)

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.opt.zero_grad(set_to_none=set_to_none)

    def step(self) -> None:
        if self.max_norm > 0:
            torch.nn.utils.clip_grad_norm_(self.params, self.max_norm)
        self.opt.step()


def build(cfg: HypernetConfig) -> SetHyperSiren:
    """The model of ``cfg`` (grey images: 1 channel)."""
    return SetHyperSiren(1, cfg.latent_dim, cfg.hidden_features, cfg.hidden_layers,
                         encoder_layers=cfg.encoder_layers,
                         encoder_activation=cfg.encoder_activation, hyper_layers=cfg.hyper_layers)


def train(cfg: HypernetConfig, model: SetHyperSiren, train_faces: torch.Tensor,
          coords: torch.Tensor, gen: torch.Generator, *, progress: bool | None = None,
          desc: str = "hypernet"):
    """Train ``model`` on ``train_faces (n, P, 1)`` for ``cfg.steps`` Adam steps; return history.

    Each epoch is a fresh random permutation of the training faces cut into batches; every image
    of a batch gets ``randint(*context_range)`` (half-open) random context pixels; the loss is
    :func:`~freqbook.nn.hyper.hypernetwork_loss` on all pixels.
    """
    n = train_faces.shape[0]
    per_epoch = math.ceil(n / cfg.batch_size)
    state = {"order": torch.empty(0, dtype=torch.long), "pos": 0}
    lo, hi = cfg.context_range

    def step():
        if state["pos"] % per_epoch == 0:
            state["order"] = torch.randperm(n, generator=gen)
        j = state["pos"] % per_epoch
        state["pos"] += 1
        batch = train_faces[state["order"][j * cfg.batch_size:(j + 1) * cfg.batch_size]]
        counts = torch.randint(lo, hi, (batch.shape[0],), generator=gen)  # official randint
        cx, cv, mask, _ = sample_context(batch, counts, coords, gen)
        pred, z, params = model(cx, cv, mask, coords)
        return hypernetwork_loss(pred, batch, z, params, latent_weight=cfg.latent_weight,
                                 weight_weight=cfg.weight_weight)

    params = list(model.parameters())
    opt = _ClippedOptimizer(params, cfg.lr, cfg.clip_grad)
    return fit(params, step, cfg.steps, cfg.lr, desc=desc, progress=progress, optimizer=opt)


@torch.no_grad()
def evaluate_completion(cfg: HypernetConfig, model: SetHyperSiren | None, faces: torch.Tensor,
                        mean_face: torch.Tensor, coords: torch.Tensor, gen: torch.Generator):
    """Pixel-wise MSE ([-1, 1] scale, all pixels) of each method at each context size.

    Returns ``mse (method, context)`` averaged over faces and ``cfg.eval_draws`` context draws,
    and for the first ``cfg.n_examples`` faces of the first draw the hypernetwork's prediction
    and the context mask, ``(n_examples, context, P)`` each.
    """
    b = faces.shape[0]
    mse = np.zeros((len(METHODS), len(cfg.eval_contexts)))
    n_ex = min(cfg.n_examples, b)
    preds = np.zeros((n_ex, len(cfg.eval_contexts), faces.shape[1]), dtype=np.float32)
    masks = np.zeros_like(preds)
    for c, k in enumerate(cfg.eval_contexts):
        for d in range(cfg.eval_draws):
            counts = torch.full((b,), k)
            cx, cv, mask, idx = sample_context(faces, counts, coords, gen)
            out = {
                "mean_face": mean_face.expand_as(faces),
                "context_mean": cv.mean(dim=1, keepdim=True).expand_as(faces),
                "nearest": nearest_fill(cx, cv, mask, coords),
            }
            if model is not None:
                out["hypernet"] = model(cx, cv, mask, coords)[0]
            for m, name in enumerate(METHODS):
                if name in out:
                    mse[m, c] += float(torch.mean((out[name] - faces) ** 2)) / cfg.eval_draws
            if d == 0 and model is not None:
                preds[:, c] = out["hypernet"][:n_ex, :, 0].cpu().numpy()
                rows = torch.arange(n_ex)[:, None]
                masks[rows, c, idx[:n_ex].cpu()] = 1.0
    if model is None:
        mse[METHODS.index("hypernet")] = np.nan
    return mse, preds, masks


def run(cfg: HypernetConfig, *, progress: bool | None = None,
        device: str | torch.device | None = None) -> xr.Dataset:
    """Train the hypernetwork for every seed and evaluate completions on the held-out faces.

    Returns
    -------
    xarray.Dataset
        ``test_mse(method, context, seed)``, ``train_set_mse(context, seed)`` (the hypernetwork on
        its own training faces), ``ratio_to_trivial(context, seed)`` (hypernet MSE over the better
        of mean face and context mean), ``loss`` and ``mse(seed, step)``, ``wall_s(seed)``,
        ``params``, and for the first seed ``completion`` / ``context_mask(example, context, y, x)``
        with the held-out ``truth(example, y, x)`` and the ``mean_face(y, x)``.
    """
    dev = torch.device(device) if device is not None else default_device()
    train_np, test_np = load_faces(cfg.n_train)
    side = train_np.shape[1]
    coords = mgrid(side, side).to(dev)
    train_t = torch.from_numpy(train_np.reshape(len(train_np), -1, 1)).to(dev)
    test_t = torch.from_numpy(test_np.reshape(len(test_np), -1, 1)).to(dev)
    mean_face = train_t.mean(dim=0, keepdim=True)
    n_ctx, n_seed = len(cfg.eval_contexts), len(cfg.seeds)
    test_mse = np.full((len(METHODS), n_ctx, n_seed), np.nan)
    train_mse = np.full((n_ctx, n_seed), np.nan)
    losses = np.full((n_seed, cfg.steps), np.nan)
    mses = np.full_like(losses, np.nan)
    walls = np.full(n_seed, np.nan)
    preds = masks = None
    n_params = 0
    for j, seed in enumerate(cfg.seeds):
        gen = seed_everything(seed)
        model = build(cfg).to(dev)
        n_params = sum(p.numel() for p in model.parameters())
        start = time.perf_counter()
        hist = train(cfg, model, train_t, coords, gen, progress=progress, desc=f"hypernet s{seed}")
        walls[j] = time.perf_counter() - start
        losses[j], mses[j] = hist.loss, hist.metrics["mse"]
        model.eval()
        eval_gen = torch.Generator().manual_seed(10_000 + seed)
        mse, p, m = evaluate_completion(cfg, model, test_t, mean_face, coords, eval_gen)
        test_mse[:, :, j] = mse
        on_train, _, _ = evaluate_completion(cfg, model, train_t[: len(test_t)], mean_face, coords,
                                             eval_gen)
        train_mse[:, j] = on_train[METHODS.index("hypernet")]
        if j == 0:
            preds, masks = p, m
    trivial = np.minimum(test_mse[METHODS.index("mean_face")],
                         test_mse[METHODS.index("context_mean")])
    n_ex = preds.shape[0]
    img = ("example", "context", "y", "x")
    mse_attrs = {"long_name": "pixel-wise MSE on the [-1, 1] scale, all pixels"}
    return xr.Dataset(
        {
            "test_mse": (("method", "context", "seed"), test_mse, mse_attrs),
            "train_set_mse": (("context", "seed"), train_mse, mse_attrs),
            "ratio_to_trivial": (("context", "seed"), test_mse[0] / trivial,
                                 {"long_name": "hypernet MSE / min(mean face, context mean)"}),
            "loss": (("seed", "step"), losses, {"long_name": "MSE + 0.1 mean z^2 + 100 mean θ^2"}),
            "mse": (("seed", "step"), mses, {"long_name": "training-batch MSE, [-1, 1] scale"}),
            "wall_s": (("seed",), walls, {"units": "s"}),
            "params": ((), n_params),
            "completion": (img, preds.reshape(n_ex, n_ctx, side, side)),
            "context_mask": (img, masks.reshape(n_ex, n_ctx, side, side)),
            "truth": (("example", "y", "x"), test_np[:n_ex]),
            "mean_face": (("y", "x"), mean_face.reshape(side, side).cpu().numpy()),
        },
        coords={
            "method": list(METHODS),
            "context": list(cfg.eval_contexts),
            "seed": list(cfg.seeds),
            "step": np.arange(cfg.steps),
            "example": np.arange(n_ex),
        },
        attrs={"dataset": "skimage.data.lfw_subset faces (25x25 grey), NOT CelebA",
               "pixels": side * side},
    )


def run_and_record(cfg: HypernetConfig, profile: str, *, progress: bool | None = None):
    """:func:`run` and save the record ``siren/hypernet`` of ``profile`` with provenance.

    Returns
    -------
    tuple[xarray.Dataset, pathlib.Path]
        The record and where it was written.
    """
    def digest() -> dict[str, str]:
        train_np, test_np = load_faces(cfg.n_train)
        name = "skimage.data.lfw_subset faces (float32, [-1,1], train then test)"
        return {name: hashlib.sha256(np.concatenate([train_np, test_np]).tobytes()).hexdigest()}

    return shared_run_and_record(run, cfg, paper="siren", experiment="hypernet", profile=profile,
                                 progress=progress, data_sha256=digest)


COLOURS = {"hypernet": "#d62728", "mean_face": "#7f7f7f", "context_mean": "#2ca02c", "nearest": "b"}


def plot_completions(ds: xr.Dataset, contexts: tuple[int, ...] = (6, 61, 610)):
    """Held-out faces (rows): for each context size the context pixels and the completion, then
    the ground truth. Every panel uses one grey scale on [-1, 1]; pixels outside the context are
    drawn in a blue-grey that lies outside that scale."""
    import matplotlib.pyplot as plt
    from matplotlib import colormaps

    cmap = colormaps["gray"].with_extremes(bad="#8fa3bf")
    n_ex = ds.sizes["example"]
    ncol = 2 * len(contexts) + 1
    fig, axes = plt.subplots(n_ex, ncol, figsize=(1.15 * ncol + 0.8, 1.2 * n_ex + 0.5),
                             squeeze=False)
    for r in range(n_ex):
        truth, panels = ds["truth"].isel(example=r).values, []
        for k in contexts:
            sel = {"example": r, "context": k}
            hidden = ds["context_mask"].sel(sel).values == 0
            panels += [(f"{k} context px", np.ma.masked_where(hidden, truth)),
                       (f"completion ({k})", ds["completion"].sel(sel).values)]
        panels.append(("ground truth", truth))
        for c, (title, img) in enumerate(panels):
            ax = axes[r, c]
            im = ax.imshow(img, cmap=cmap, vmin=-1, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
            if r == 0:
                ax.set_title(title, fontsize=7)
        axes[r, 0].set_ylabel(f"test face {r}")
    fig.colorbar(im, ax=axes.ravel().tolist(), shrink=0.8, pad=0.01, label="pixel value")
    return fig


def plot_mse_vs_context(ds: xr.Dataset):
    """Held-out MSE against the number of context pixels, mean ± sd over seeds, per method; the
    hypernetwork on its own training faces dashed. Log-log axes."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.2, 3.4))
    k = ds["context"].values
    for m in ds["method"].values:
        da = ds["test_mse"].sel({"method": m})
        sd = da.std("seed", ddof=1) if ds.sizes["seed"] > 1 else 0 * da.mean("seed")
        ax.errorbar(k, da.mean("seed"), yerr=sd, marker="o", ms=3, capsize=2,
                    color=COLOURS[str(m)], label=METHOD_LABELS[str(m)])
    ax.plot(k, ds["train_set_mse"].mean("seed"), ls="--", color=COLOURS["hypernet"], lw=1,
            label="hypernet on training faces")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(f"context pixels (of {int(ds.attrs.get('pixels', 625))})")
    ax.set_ylabel("MSE per pixel, [-1, 1] scale")
    ax.legend(fontsize=7, loc="lower left")
    return fig


def plot_training(ds: xr.Dataset, window: int = 10):
    """Training-batch MSE and total loss per Adam step (running mean over ``window`` steps),
    mean ± sd over seeds."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.2, 3.0))
    window = min(window, ds.sizes["step"])
    steps = ds["step"].values[window - 1:] + 1  # each mean ends at its last step
    kernel = np.ones(window) / window
    for var, colour, name in (("mse", "#d62728", "MSE"), ("loss", "#555555", "total loss")):
        curves = np.array([np.convolve(c, kernel, mode="valid") for c in ds[var].values])
        mean = curves.mean(0)
        ax.plot(steps, mean, color=colour, label=name)
        if curves.shape[0] > 1:
            sd = curves.std(0, ddof=1)
            ax.fill_between(steps, mean - sd, mean + sd, color=colour, alpha=0.2, lw=0)
    ax.set_xlabel("Adam step")
    ax.set_ylabel(f"training batch (running mean of {window})")
    ax.set_yscale("log")
    ax.legend()
    return fig
