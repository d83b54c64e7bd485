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
