"""Known-MI tasks in the regime of real representations: high-dimensional data near a low-dimensional
curved manifold.

A network layer is hundreds of units whose values lie near a curved manifold of few dimensions
(saturated tanh units, dead ReLU units, duplicated features); an image is thousands of pixels
driven by a few latent factors. The 40 tasks of :mod:`.suite` never enter that regime: their
high-dimensional tasks are full-rank Gaussians. Here a low-dimensional source pair of known MI
(Gaussian, Student-t or uniform; ``intrinsic_dim`` coordinates a side) is pushed through a fixed
random *injective* map of each side into ``ambient_dim`` coordinates. An injective map of each side
keeps I(X;Y) (Czyz et al. 2023), so the truth is that of the source.

Sources (``source``):

- ``gaussian``: :class:`infoplane.tasks.GaussianTask` (every coordinate pair correlated, both sides
  rotated), I = ``mi_bits``.
- ``student_t``: :class:`infoplane.tasks.StudentTTask` with ``dof`` degrees of freedom, the scale
  matrix chosen so that the total I (the Gaussian part plus the tail term of
  :func:`infoplane.tasks.student_t_correction_nats`) is ``mi_bits``; ``mi_bits`` must be at least
  the tail term alone.
- ``uniform``: the correlated-uniform pair on the circle of :mod:`.images`: x ~ U(0, 1)^d and
  y = (x + w u) mod 1, I = -d log w. Each circle coordinate t enters the map as (cos 2 pi t,
  sin 2 pi t), so the data lie on a torus with no seam.

Maps (``embedding``), each a fixed function of ``map_seed``:

- ``tanh``: u -> tanh(gain A u + b) with A (D, m) Gaussian, b ~ N(0, 1/4): for D >= m a generic A
  has rank m and tanh is strictly monotone, so u is recovered from any m independent rows. Large
  inputs saturate, as trained tanh units do.
- ``mlp``: a random two-layer network, u -> leaky_relu(B tanh(gain A u + b) + c) with a hidden
  width of max(2m, 16) and B (D, hidden): injective when D >= hidden (B has full column rank,
  leaky ReLU is strictly monotone).
- ``dead_units``: the ``tanh`` map into a third of the coordinates, then ReLU units (a quarter of
  them dead, constant 0 on every sample) and exact copies of earlier coordinates fill the rest:
  rank-deficient data with constant and duplicated columns, still injective (the tanh block is).

Images (the other kind of real representation) are :class:`infoplane.tasks.images.ImageTask`, whose
maps are injective by construction; :func:`manifold_tasks` includes some.

    >>> task = EmbeddedTask(source="gaussian", intrinsic_dim=2, ambient_dim=100, mi_bits=1.0)
    >>> x, y = task.sample(1000, seed=0); x.shape, task.mi_bits
    ((1000, 100), 1.0)
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from . import LN2, GaussianTask, StudentTTask, student_t_correction_nats
from .images import ImageTask, UniformCircleTask

SOURCES = ("gaussian", "student_t", "uniform")
EMBEDDINGS = ("tanh", "mlp", "dead_units")


def _student_t_scale_bits(mi_bits: float, dim: int, dof: float) -> float:
    """The Gaussian MI of the scale matrix that gives a Student-t pair a total I of ``mi_bits``."""
    tail = student_t_correction_nats(dof, dim, dim) / LN2
    if mi_bits < tail - 1e-12:
        raise ValueError(
            f"mi_bits: a {dim}+{dim} Student-t pair with dof={dof:g} shares at least {tail:.3f} bits "
            f"(its tails), got {mi_bits!r}"
        )
    return max(mi_bits - tail, 0.0)


@dataclasses.dataclass(frozen=True)
class EmbeddedTask:
    """A low-dimensional source pair of known MI, each side pushed through a random injective map.

    source: ``gaussian``, ``student_t`` or ``uniform`` (see the module docstring);
    intrinsic_dim: source coordinates per side (1 to 8); ambient_dim: coordinates per side after the
    map; mi_bits: I(X;Y) in bits; embedding: ``tanh``, ``mlp`` or ``dead_units``; gain: the scale of
    the map's first layer (larger saturates more); dof: the Student-t degrees of freedom;
    map_seed: seeds the maps (X and Y get different ones).
    """

    source: str = "gaussian"
    intrinsic_dim: int = 2
    ambient_dim: int = 100
    mi_bits: float = 1.0
    embedding: str = "tanh"
    gain: float = 1.5
    dof: float = 5.0
    map_seed: int = 0

    def __post_init__(self):
        if self.source not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES}, got {self.source!r}")
        if self.embedding not in EMBEDDINGS:
            raise ValueError(f"embedding must be one of {EMBEDDINGS}, got {self.embedding!r}")
        if not 1 <= self.intrinsic_dim <= 16:
            raise ValueError(f"intrinsic_dim must lie in [1, 16], got {self.intrinsic_dim!r}")
        if self.ambient_dim < self._min_ambient:
            raise ValueError(
                f"ambient_dim: the {self.embedding} map of a {self.intrinsic_dim}-d {self.source} source needs at "
                f"least {self._min_ambient} coordinates to stay injective, got {self.ambient_dim!r}"
            )
        if not (math.isfinite(self.mi_bits) and self.mi_bits >= 0):
            raise ValueError(f"mi_bits must be finite and >= 0, got {self.mi_bits!r}")
        self._source_task()  # checks mi_bits against the source

    @property
    def dim_x(self) -> int:
        return self.ambient_dim

    @property
    def dim_y(self) -> int:
        return self.ambient_dim

    @property
    def _input_dim(self) -> int:
        """Coordinates entering the map: the source's, or two per circle coordinate."""
        return 2 * self.intrinsic_dim if self.source == "uniform" else self.intrinsic_dim

    @property
    def _hidden(self) -> int:
        return max(2 * self._input_dim, 16)

    @property
    def _min_ambient(self) -> int:
        m = self._input_dim
        return {"tanh": m, "mlp": self._hidden, "dead_units": 3 * m}[self.embedding]

    def _source_task(self):
        d = self.intrinsic_dim
        if self.source == "gaussian":
            return GaussianTask(d, d, self.mi_bits)
        if self.source == "student_t":
            return StudentTTask(d, d, _student_t_scale_bits(self.mi_bits, d, self.dof), self.dof)
        return UniformCircleTask(d, self.mi_bits)

    def sample_sources(self, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """The source pair before the maps, (n, intrinsic_dim) each."""
        return self._source_task().sample(n, seed)

    def _map(self, u: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        if self.source == "uniform":  # a circle coordinate as a point of the circle: no seam
            u = np.concatenate([np.cos(2 * np.pi * u), np.sin(2 * np.pi * u)], axis=1)
        else:  # standardise the scale so that one gain saturates every source alike
            u = u / np.sqrt(np.maximum(np.median(u * u, axis=0), 1e-12) / 0.455)
        m, big_d = u.shape[1], self.ambient_dim
        gain = self.gain / math.sqrt(m)
        if self.embedding == "tanh":
            a, b = rng.standard_normal((big_d, m)), 0.5 * rng.standard_normal(big_d)
            return np.tanh(gain * u @ a.T + b)
        if self.embedding == "mlp":
            h = self._hidden
            a, b = rng.standard_normal((h, m)), 0.5 * rng.standard_normal(h)
            w, c = rng.standard_normal((big_d, h)) / math.sqrt(h), 0.1 * rng.standard_normal(big_d)
            z = np.tanh(gain * u @ a.T + b) @ w.T + c
            return np.where(z > 0, z, 0.1 * z)
        # dead_units: an injective tanh block, then ReLU units (some dead) and copies of earlier columns
        live = big_d // 3
        a, b = rng.standard_normal((live, m)), 0.5 * rng.standard_normal(live)
        block = np.tanh(gain * u @ a.T + b)
        n_relu = (big_d - live) // 2
        dead = n_relu // 4
        w = rng.standard_normal((n_relu, live)) / math.sqrt(live)
        c = 0.3 * rng.standard_normal(n_relu)
        c[:dead] = -10.0 - np.abs(w[:dead]).sum(axis=1)  # below zero for every |tanh| <= 1: constant 0
        relu = np.maximum(block @ w.T + c, 0.0)
        copies = block[:, rng.integers(0, live, big_d - live - n_relu)]
        out = np.concatenate([block, relu, copies], axis=1)
        return out[:, rng.permutation(big_d)]

    def sample(self, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """(n, ambient_dim) x and y, float64."""
        u, v = self.sample_sources(n, seed)
        rng = np.random.default_rng([self.map_seed, 7919])
        # The maps are fixed by map_seed alone: every sample of the task goes through the same maps.
        state = np.random.default_rng(rng.integers(2**63))
        mx = self._map(u, np.random.default_rng(state.integers(2**63)))
        my = self._map(v, np.random.default_rng(state.integers(2**63)))
        return mx, my


def manifold_tasks() -> dict[str, tuple[object, int]]:
    """The family by name: (task, n). Every task has ``sample(n, seed)`` and ``mi_bits``.

    Names say family, source, intrinsic and ambient dimension per side, the MI and n:
    ``{embedding}_{source}_{d}in{D}_{mi}bit_n{n}``. 1 to 8 intrinsic dimensions, 50 to 1024 ambient,
    0 to 10 bits, n from 1000 to 10,000.
    """
    grid = [
        # embedding, source, intrinsic, ambient, bits, n
        ("tanh", "gaussian", 1, 50, 0.0, 2000),
        ("tanh", "gaussian", 1, 50, 6.0, 5000),
        ("tanh", "gaussian", 2, 100, 1.0, 5000),
        ("tanh", "gaussian", 2, 500, 2.0, 5000),
        ("tanh", "gaussian", 4, 100, 4.0, 5000),
        ("tanh", "gaussian", 4, 500, 8.0, 10000),
        ("tanh", "gaussian", 8, 200, 4.0, 10000),
        ("tanh", "gaussian", 1, 1000, 10.0, 5000),
        ("mlp", "gaussian", 2, 100, 2.0, 1000),
        ("mlp", "gaussian", 3, 300, 3.0, 5000),
        ("mlp", "gaussian", 6, 200, 2.0, 5000),
        ("tanh", "student_t", 2, 100, 1.5, 5000),
        ("mlp", "student_t", 3, 200, 3.0, 5000),
        ("tanh", "uniform", 1, 50, 3.0, 5000),
        ("mlp", "uniform", 2, 100, 2.0, 5000),
        ("tanh", "uniform", 3, 200, 0.0, 5000),
        ("dead_units", "gaussian", 2, 300, 2.0, 5000),
        ("dead_units", "gaussian", 4, 600, 4.0, 5000),
        ("dead_units", "student_t", 2, 150, 1.0, 2000),
        ("dead_units", "uniform", 2, 150, 4.0, 5000),
    ]
    tasks: dict[str, tuple[object, int]] = {}
    for i, (emb, src, d, big_d, bits, n) in enumerate(grid):
        tasks[f"{emb}_{src}_{d}in{big_d}_{bits:g}bit_n{n}"] = (
            EmbeddedTask(src, d, big_d, bits, embedding=emb, map_seed=100 + i),
            n,
        )
    for family, source, bits, n in [
        ("gaussian_bumps", "gaussian", 2.0, 5000),
        ("gaussian_bumps", "uniform", 4.0, 5000),
        ("rectangles", "gaussian", 1.0, 5000),
        ("rectangles", "uniform", 4.0, 5000),
    ]:
        task = ImageTask(family=family, source=source, mi_bits=bits, **({"size": 32} if family == "rectangles" else {}))
        side = task.image_shape[0]
        tasks[f"images_{family}_{source}_{task.source_dim}in{side * side}_{bits:g}bit_n{n}"] = (task, n)
    return tasks


def family_of(name: str) -> str:
    """The family a task of :func:`manifold_tasks` belongs to: its map (``tanh``, ``mlp``, ``dead_units``,
    ``images``)."""
    return name.split("_", 1)[0] if not name.startswith("dead_units") else "dead_units"


__all__ = ["EMBEDDINGS", "EmbeddedTask", "SOURCES", "family_of", "manifold_tasks"]
