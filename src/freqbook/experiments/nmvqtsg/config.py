"""Profiles of the NM-VQTSG chapter (one config shared by every page, so caches are shared).

Model sizes are the paper's code defaults at every profile (spec ``papers/nmvqtsg.md`` 3.2);
``smoke`` and ``cpu`` shrink training steps and sample counts only (spec 6.3), ``cpu`` trains
every stage on three training seeds and evaluates three sampling draws per seed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from freqbook.profiles import config_for as _config_for


@dataclass(frozen=True)
class NMConfig:
    """Settings of the whole chapter.

    Attributes
    ----------
    dataset
        UCR dataset (re-split 80/20).
    seeds
        Training seeds (stage 1, 2, 3 each trained once per seed).
    draws
        Sampling seeds of the evaluation (generation, ROCKET outlier filter, IS shuffle).
    stage1_steps, stage2_steps, mapper_steps
        Optimiser steps (paper: 20 000, 40 000, 3 000 / 30 000).
    undertrained_steps
        Stage-2 step at which a snapshot of the prior is kept (the under-trained generator of
        the failure-mode page).
    batch_size, lr, min_lr, warmup
        AdamW batch, peak and final learning rate of the cosine schedule, warm-up fraction.
    taus
        Grid of the SVQ temperature search.
    tau_series, tau_samples
        Training series reconstructed by SVQ per tau (``None``: all) and generated samples.
    n_samples, per_class
        Unconditional samples per draw; class-conditional samples per class and draw.
    sample_batch
        Batch of the iterative decoding (does not change the samples' distribution).
    rocket_kernels, rocket_seed
        ROCKET kernels (2 features each) and the fixed seed of their draw.
    fcn_steps, fcn_blocks, fcn_seed
        Training steps (batch 128, AdamW 1e-3, cosine), depth (3: Wang et al., 6: authors') and
        seed of the FCN that scores IS.
    """

    dataset: str = "ECG5000"
    seeds: tuple[int, ...] = (0,)
    draws: tuple[int, ...] = (0, 1, 2)
    stage1_steps: int = 20_000
    stage2_steps: int = 40_000
    undertrained_steps: int = 2_000
    mapper_steps: int = 3_000
    batch_size: int = 32
    lr: float = 5e-3
    min_lr: float = 5e-4
    warmup: float = 0.05
    taus: tuple[float, ...] = (0.1, 0.5, 1.0, 2.0, 4.0)
    tau_series: int | None = None
    tau_samples: int = 1024
    n_samples: int = 1024
    per_class: int = 100
    sample_batch: int = 32
    rocket_kernels: int = 1000
    rocket_seed: int = 0
    fcn_steps: int = 2000
    fcn_blocks: int = 6
    fcn_seed: int = 0

    def training(self) -> dict[str, object]:
        """The fields that decide the trained stages (the checkpoint key)."""
        keys = ("dataset", "stage1_steps", "stage2_steps", "undertrained_steps", "mapper_steps",
                "batch_size", "lr", "min_lr", "warmup")
        d = asdict(self)
        return {k: d[k] for k in keys}


PROFILES: dict[str, NMConfig] = {
    "smoke": NMConfig(dataset="GunPoint", seeds=(0,), draws=(0, 1), stage1_steps=40,
                      stage2_steps=40, undertrained_steps=10, mapper_steps=20, tau_series=None,
                      tau_samples=64, n_samples=64, per_class=24, sample_batch=64,
                      rocket_kernels=100, fcn_steps=30, fcn_blocks=3),
    "cpu": NMConfig(dataset="ECG5000", seeds=(0, 1, 2), draws=(0, 1, 2), stage1_steps=400,
                    stage2_steps=600, undertrained_steps=60, mapper_steps=400, tau_series=512,
                    tau_samples=256, n_samples=256, per_class=48, sample_batch=128,
                    fcn_steps=150, fcn_blocks=3),
    "paper": NMConfig(),
}


def config_for(profile: str, seed: int = 0) -> NMConfig:
    """The profile's config with its training seeds starting at ``seed``."""
    return _config_for(PROFILES, profile, seed)
