"""Synthetic sums of sines for the MADS chapter (spec ``papers/mads.md`` section 4.3) [R].

The paper's generator is known only to scale by beta-distributed variables and to come in
low/high-frequency and low/high-dimension configurations; the formula is ours:

``x_id(t) = sum_{k=1..K} a_ikd sin(2 pi f_ikd t + phi_ikd)``, ``t`` on ``T`` regular points of
``[0, 1]``, ``f = 1 + (f_max - 1) Beta(2, 5)``, ``a ~ Beta(2, 2)``, ``phi ~ U(0, 2 pi)``;
configurations ``f_max in {5, 15} x D in {4, 32}``. Callers z-score with training statistics.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CONFIGS: dict[str, tuple[float, int]] = {
    "lowf-lowd": (5.0, 4),
    "lowf-highd": (5.0, 32),
    "highf-lowd": (15.0, 4),
    "highf-highd": (15.0, 32),
}


@dataclass(frozen=True)
class SineConfig:
    """One synthetic configuration."""

    f_max: float = 5.0
    channels: int = 4
    length: int = 50
    components: int = 3


def config(name: str, length: int = 50) -> SineConfig:
    """The named configuration of :data:`CONFIGS`."""
    if name not in CONFIGS:
        raise ValueError(f"unknown synthetic configuration {name!r}; valid: {', '.join(CONFIGS)}")
    f_max, d = CONFIGS[name]
    return SineConfig(f_max=f_max, channels=d, length=length)


def generate(cfg: SineConfig, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``times (n, T)`` on ``[0, 1]`` and values ``(n, T, D)``; deterministic given ``rng``."""
    t = np.linspace(0.0, 1.0, cfg.length)
    shape = (n, cfg.components, cfg.channels)
    f = 1.0 + (cfg.f_max - 1.0) * rng.beta(2.0, 5.0, size=shape)
    a = rng.beta(2.0, 2.0, size=shape)
    phi = rng.uniform(0.0, 2.0 * np.pi, size=shape)
    arg = 2.0 * np.pi * f[:, None] * t[None, :, None, None] + phi[:, None]
    x = (a[:, None] * np.sin(arg)).sum(axis=2)
    return np.broadcast_to(t, (n, cfg.length)).copy(), x
