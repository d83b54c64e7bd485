"""Analytic 3-D shapes with exact signed distance functions and oriented point samplers.

The SIREN paper fits signed distance functions (SDFs) to oriented point clouds of scanned
objects (Thai statue, a room; Sec. 4.2). Those scans are not available offline, so the book
uses synthetic shapes whose SDF is known in closed form, which turns "the surface looks
right" into measured distances.

A :class:`Shape` is a union of **disjoint** primitives (spheres and tori). For disjoint
primitives the union's SDF is exactly ``min_i d_i(x)`` everywhere - outside by definition of
the distance to a union, and inside primitive ``i`` because any path to another primitive first
crosses the boundary of ``i``. Every primitive's surface is therefore part of the union's
surface, and points sampled on a primitive (with its outward normal) are valid samples of the
whole shape. :func:`make_shape` checks disjointness.

Sign convention: negative inside, positive outside, ``|grad SDF| = 1`` (Eikonal equation,
paper Sec. 4.2).

The SDF functions accept NumPy arrays or torch tensors of shape ``(..., 3)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch


def _norm(v: Any) -> Any:
    """Euclidean norm over the last axis, for NumPy arrays and torch tensors alike."""
    return (v * v).sum(-1) ** 0.5


@dataclass(frozen=True)
class Sphere:
    """Sphere of ``radius`` around ``centre``: ``d(x) = |x - c| - r``."""

    centre: tuple[float, float, float]
    radius: float

    @property
    def area(self) -> float:
        return 4.0 * math.pi * self.radius**2

    def sdf(self, x: Any) -> Any:
        c = _as(x, self.centre)
        return _norm(x - c) - self.radius

    def sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """``n`` area-uniform points and their outward unit normals."""
        normals = rng.standard_normal((n, 3))
        normals /= np.linalg.norm(normals, axis=1, keepdims=True)
        return np.asarray(self.centre) + self.radius * normals, normals

    def extent(self) -> float:
        """Largest ``|coordinate|`` reached by the surface (for the bounding-box check)."""
        return float(np.max(np.abs(self.centre)) + self.radius)


@dataclass(frozen=True)
class Torus:
    """Torus around the z-axis through ``centre``: tube radius ``r`` at distance ``R``.

    ``d(x) = sqrt((sqrt(x^2 + y^2) - R)^2 + z^2) - r`` in coordinates relative to ``centre``.
    """

    centre: tuple[float, float, float]
    major: float
    minor: float

    @property
    def area(self) -> float:
        return 4.0 * math.pi**2 * self.major * self.minor

    def sdf(self, x: Any) -> Any:
        p = x - _as(x, self.centre)
        q = (p[..., 0] ** 2 + p[..., 1] ** 2) ** 0.5 - self.major
        return (q * q + p[..., 2] ** 2) ** 0.5 - self.minor

    def sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """``n`` area-uniform points (rejection on the tube angle) and outward normals.

        The area element of the parametrisation ``(u, v)`` (u around the axis, v around the
        tube) is ``r (R + r cos v) du dv``; ``v`` is accepted with probability
        ``(R + r cos v) / (R + r)``.
        """
        vs: list[np.ndarray] = []
        got = 0
        while got < n:
            v = rng.uniform(0.0, 2 * math.pi, 2 * n)
            keep = rng.uniform(0.0, 1.0, 2 * n) < (self.major + self.minor * np.cos(v)) / (
                self.major + self.minor
            )
            vs.append(v[keep])
            got += int(keep.sum())
        v = np.concatenate(vs)[:n]
        u = rng.uniform(0.0, 2 * math.pi, n)
        normals = np.stack([np.cos(v) * np.cos(u), np.cos(v) * np.sin(u), np.sin(v)], axis=1)
        ring = np.stack([self.major * np.cos(u), self.major * np.sin(u), np.zeros(n)], axis=1)
        return np.asarray(self.centre) + ring + self.minor * normals, normals

    def extent(self) -> float:
        c = np.abs(self.centre)
        return float(max(c[0] + self.major + self.minor, c[1] + self.major + self.minor,
                         c[2] + self.minor))


Primitive = Sphere | Torus


def _as(x: Any, v: tuple[float, ...]) -> Any:
    """``v`` as an array/tensor matching ``x`` (dtype and device)."""
    if isinstance(x, torch.Tensor):
        return torch.tensor(v, dtype=x.dtype, device=x.device)
    return np.asarray(v, dtype=np.asarray(x).dtype if np.asarray(x).dtype.kind == "f" else float)


@dataclass(frozen=True)
class Shape:
    """A union of disjoint primitives with its exact SDF and an oriented point sampler.

    Attributes
    ----------
    name
        Short name (record attribute, figure titles).
    parts
        The primitives; they must not touch (see the module docstring).
    """

    name: str
    parts: tuple[Primitive, ...]

    def sdf(self, x: Any) -> Any:
        """Exact signed distance at ``x`` of shape ``(..., 3)``: ``min_i d_i(x)``."""
        ds = [p.sdf(x) for p in self.parts]
        if isinstance(x, torch.Tensor):
            return torch.stack(ds, -1).amin(-1)
        return np.min(np.stack(ds, -1), axis=-1)

    def normal(self, x: np.ndarray) -> np.ndarray:
        """Unit gradient of the SDF at ``x`` (``(N, 3)``), by autograd on the closed form."""
        t = torch.as_tensor(np.asarray(x, dtype=np.float64)).requires_grad_(True)
        (g,) = torch.autograd.grad(self.sdf(t).sum(), t)
        g = g.numpy()
        return g / np.linalg.norm(g, axis=-1, keepdims=True)

    @property
    def area(self) -> float:
        return float(sum(p.area for p in self.parts))

    def sample_surface(
        self, n: int, rng: np.random.Generator | int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """``n`` points spread uniformly over the surface area, with outward unit normals.

        Returns
        -------
        points, normals
            Two ``(n, 3)`` float32 arrays (the "oriented point cloud" of paper Sec. 4.2).
        """
        rng = np.random.default_rng(rng)
        areas = np.array([p.area for p in self.parts])
        counts = rng.multinomial(n, areas / areas.sum())
        pts, nrm = zip(*(p.sample(int(k), rng) for p, k in zip(self.parts, counts, strict=True)),
                       strict=True)
        points, normals = np.concatenate(pts), np.concatenate(nrm)
        order = rng.permutation(n)
        return points[order].astype(np.float32), normals[order].astype(np.float32)


SHAPES: dict[str, Shape] = {
    "sphere": Shape("sphere", (Sphere((0.0, 0.0, 0.0), 0.6),)),
    "torus": Shape("torus", (Torus((0.0, 0.0, 0.0), 0.55, 0.2),)),
    # A torus around a ball, two small balls and a thin ring: large and small features
    # (tube radius 0.04 is ~1.3 voxels of a 64^3 grid on [-1, 1]^3).
    "scene": Shape(
        "scene",
        (
            Torus((0.0, 0.0, -0.15), 0.55, 0.14),
            Sphere((0.0, 0.0, -0.15), 0.28),
            Sphere((0.55, 0.45, 0.45), 0.16),
            Sphere((-0.5, -0.55, 0.5), 0.08),
            Torus((-0.1, 0.35, 0.55), 0.25, 0.04),
        ),
    ),
}


def make_shape(name: str) -> Shape:
    """Look up a shape in :data:`SHAPES`; checks that it lies in ``[-0.9, 0.9]^3`` and that
    its parts are disjoint (sampled surface points of each part lie outside all others)."""
    if name not in SHAPES:
        raise ValueError(f"unknown shape {name!r}; valid: {', '.join(SHAPES)}")
    shape = SHAPES[name]
    if max(p.extent() for p in shape.parts) > 0.9:
        raise ValueError(f"shape {name!r} leaves the box [-0.9, 0.9]^3")
    rng = np.random.default_rng(0)
    for i, part in enumerate(shape.parts):
        pts, _ = part.sample(2000, rng)
        for j, other in enumerate(shape.parts):
            if i != j and np.min(other.sdf(pts)) <= 0.0:
                raise ValueError(f"shape {name!r}: parts {i} and {j} overlap")
    return shape
