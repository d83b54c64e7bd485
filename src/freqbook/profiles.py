"""Run profiles shared by every notebook.

``smoke``
    Seconds per notebook; used by the test suite and CI.
``cpu``
    The default: minutes on a 2-core laptop, large enough to show each paper's qualitative effect.
``paper``
    The paper's own settings, meant for a GPU (Colab or a workstation).

Each experiment defines a frozen dataclass config with one instance per profile; this module
only names the profiles and validates user input with a one-line error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

PROFILES: tuple[str, ...] = ("smoke", "cpu", "paper")
DEFAULT_PROFILE = "cpu"

T = TypeVar("T")


class ProfileError(ValueError):
    """An unknown profile name was requested."""


def check_profile(profile: str) -> str:
    """Return ``profile`` if it is known, else raise a one-line :class:`ProfileError`.

    Examples
    --------
    >>> check_profile("smoke")
    'smoke'
    """
    if profile not in PROFILES:
        raise ProfileError(
            f"unknown profile {profile!r}; valid profiles: {', '.join(PROFILES)}"
        )
    return profile


def pick(table: Mapping[str, T], profile: str) -> T:
    """Select the entry of ``table`` for ``profile`` after validating the name."""
    check_profile(profile)
    missing = [p for p in PROFILES if p not in table]
    if missing:
        raise ValueError(f"profile table lacks entries for: {', '.join(missing)}")
    return table[profile]


def config_for(table: Mapping[str, T], profile: str, seed: int = 0) -> T:
    """The profile's config from ``table``, its seeds shifted so that ``seed`` is the first.

    Every experiment keeps a ``{profile: Config}`` table of frozen dataclasses; a notebook's
    ``seed`` parameter moves the whole seed range (``seeds = (seed, seed + 1, ...)``) without
    changing how many seeds the profile runs. Configs without a ``seeds`` field are returned as
    they are, with ``seed`` put into a ``seed`` field when there is one.

    Examples
    --------
    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class C:
    ...     seeds: tuple[int, ...] = (0, 1)
    >>> config_for({"smoke": C(), "cpu": C(), "paper": C()}, "cpu", seed=5).seeds
    (5, 6)
    """
    from dataclasses import fields, replace

    cfg = pick(table, profile)
    names = {f.name for f in fields(cfg)}  # type: ignore[arg-type]
    if "seeds" in names:
        n = len(cfg.seeds)  # type: ignore[attr-defined]
        return replace(cfg, seeds=tuple(seed + s for s in range(n)))  # type: ignore[type-var]
    if "seed" in names:
        return replace(cfg, seed=seed)  # type: ignore[type-var]
    return cfg
