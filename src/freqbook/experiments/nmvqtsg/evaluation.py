"""Evaluation helpers of the NM-VQTSG pages: sampling, ROCKET features, FID/IS/cFID, τ search.

Protocol of the paper's code (spec ``papers/nmvqtsg.md`` sections 2.4-2.5): one ROCKET kernel
draw per study (fixed ``rocket_seed``), L2-normalised rows, isolation-forest outlier removal
before every FID, IS from the book's FCN, cFID = mean over classes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from freqbook.experiments.nmvqtsg.cache import cached
from freqbook.experiments.nmvqtsg.config import NMConfig
from freqbook.experiments.nmvqtsg.data import Resplit
from freqbook.experiments.nmvqtsg.training import (
    Generator,
    _tensor,
    svq_reconstruct,
    token_change,
)
from freqbook.metrics.generative import RocketFeatures, fid, inception_score

_CODE = ("freqbook.experiments.nmvqtsg.evaluation",)


def features(cfg: NMConfig) -> RocketFeatures:
    """The study's ROCKET transform (fixed kernels: ``rocket_kernels``, ``rocket_seed``)."""
    return RocketFeatures(cfg.rocket_kernels, cfg.rocket_seed)


def sample(gen: Generator, n: int, cfg: NMConfig, seed: int, classes: int | None = None,
           under: bool = False) -> torch.Tensor:
    """``n`` generated series (null class, or class ``classes``) from a seeded generator."""
    g = torch.Generator().manual_seed(seed)
    prior = gen.prior_under if under else gen.prior
    return prior.sample(n, gen.stage1, classes, cfg.sample_batch, g)


def is_score(probs: np.ndarray, seed: int) -> float:
    """IS over 10 splits (fewer when there are fewer than 100 samples)."""
    splits = max(2, min(10, probs.shape[0] // 10))
    return inception_score(probs, splits=splits, seed=seed)[0]


@dataclass
class TauSearch:
    """FID between generated and SVQ-reconstructed sets per τ, and the chosen τ*."""

    taus: tuple[float, ...]
    fid: list[float]
    changed: list[float]
    tau_star: float


def tau_search(data: Resplit, gen: Generator, cfg: NMConfig, seed: int,
               rocket: RocketFeatures | None = None) -> TauSearch:
    """Spec 2.4 ``search_optimal_tau`` (cached per training seed).

    ``tau_samples`` unconditional samples ``X̂``; for every τ the SVQ reconstructions
    ``X̃'_τ`` of ``tau_series`` training series; τ* = argmin FID(ROCKET(X̂), ROCKET(X̃'_τ)).
    """
    settings = {**cfg.training(), "seed": seed, "taus": list(cfg.taus),
                "tau_series": cfg.tau_series, "tau_samples": cfg.tau_samples,
                "rocket": [cfg.rocket_kernels, cfg.rocket_seed]}
    rocket = rocket or features(cfg)

    def build() -> dict:
        X_hat = sample(gen, cfg.tau_samples, cfg, seed=50_000 + seed).numpy()
        rng = np.random.default_rng(seed)
        X = data.X_train
        if cfg.tau_series is not None and cfg.tau_series < len(X):
            X = X[rng.choice(len(X), cfg.tau_series, replace=False)]
        Xt = _tensor(X)
        Z_hat = rocket(X_hat)
        fids, changed = [], []
        for i, tau in enumerate(cfg.taus):
            g = torch.Generator().manual_seed(60_000 + 97 * seed + i)
            X_p = svq_reconstruct(gen.stage1, Xt, tau, g).numpy()
            fids.append(fid(Z_hat, rocket(X_p)))
            changed.append(token_change(gen.stage1, Xt[:256], tau, g))
        return {"fid": fids, "changed": changed, "tau_star": float(cfg.taus[int(np.argmin(fids))])}

    out, _ = cached("tau", settings, (*_CODE, "freqbook.experiments.nmvqtsg.training"), build)
    return TauSearch(tuple(cfg.taus), [float(v) for v in out["fid"]],
                     [float(v) for v in out["changed"]], float(out["tau_star"]))


def pca_2d(Z_fit: np.ndarray, *others: np.ndarray) -> list[np.ndarray]:
    """2-D PCA fitted on ``Z_fit`` (after outlier removal), applied to it and ``others``."""
    from sklearn.decomposition import PCA

    from freqbook.metrics.generative import remove_outliers

    pca = PCA(n_components=2).fit(remove_outliers(Z_fit))
    return [pca.transform(Z) for Z in (Z_fit, *others)]
