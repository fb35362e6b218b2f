"""Images with a known mutual information: a low-dimensional source pair with known MI, each side
mapped injectively to an image, so I(image_X; image_Y) = I(source_X; source_Y) exactly (an
injective map on each side keeps MI). The benchmark of Butakov et al. (2024), "Information
bottleneck analysis of deep neural networks via lossy compression" (ICLR), section 5.

Sources (each side lives in [0, 1]^d after its map to the unit cube):

- ``gaussian``: x, y ~ N(0, I_d) with corr(x_i, y_i) = rho for every coordinate pair and
  rho = sqrt(1 - exp(-2 I / d)) (I in nats, split equally over the d pairs), each side mixed by
  a fixed random rotation (:class:`infoplane.tasks.GaussianTask`); a rotated N(0, I) is N(0, I),
  so the normal CDF of every coordinate maps it to U(0, 1)^d without changing the MI.
- ``uniform``: a correlated-uniform pair on the circle. x ~ U(0, 1)^d and, per coordinate,
  y = (x + w u) mod 1 with u ~ U(0, 1) independent. Given x, y is uniform on an arc of length w,
  and y alone is U(0, 1) (adding an independent shift on the circle keeps the uniform law), so
  I = h(Y) - h(Y | X) = 0 - log w nats per coordinate: w = exp(-I / d). Both sides are
  uniform marginally whatever I is, so one compressor fits every MI of the grid.

Image families (both maps injective on the unit cube; :func:`bump_centres` and
:func:`rectangle_corners` invert them, and the tests recover the source from the images):

- ``gaussian_bumps``: a 2-d source u becomes the centre of exp(-||g - u||^2 / (2 s^2)) on a
  ``size`` x ``size`` grid g of pixel centres in [0, 1]^2 (s = ``width``).
- ``rectangles``: a 4-d source becomes ordered corners a < b in each axis with b - a >= ``min_size``
  (a = u1 (1 - m), b = a + m + u2 (1 - m - a)), drawn as the fraction of every pixel the
  rectangle covers (anti-aliased area coverage).

The MI a task supports is 0 <= I <= ``MAX_NATS_PER_COORDINATE`` x d nats: beyond that the source
correlation (or the arc width) falls below what float64 samples and float32 images resolve.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from scipy import special

from . import LN2, GaussianTask

SOURCES = ("gaussian", "uniform")
FAMILIES = {"gaussian_bumps": 2, "rectangles": 4}  # family -> source dimension per side
# 1 - rho^2 = exp(-2 I/d) and w = exp(-I/d): at 10 nats a coordinate, 2e-9 and 5e-5, still resolved.
MAX_NATS_PER_COORDINATE = 10.0


def check_mi_bits(mi_bits: float, dim: int, key: str = "mi_bits") -> float:
    """``mi_bits`` if 0 <= I <= MAX_NATS_PER_COORDINATE x dim nats, else a ValueError naming ``key``."""
    top = MAX_NATS_PER_COORDINATE * dim
    if not (isinstance(mi_bits, int | float) and math.isfinite(mi_bits)) or not 0 <= mi_bits * LN2 <= top:
        raise ValueError(
            f"{key}: the task supports MI from 0 to {top:g} nats ({top / LN2:.4g} bits) for a {dim}-d source, "
            f"got {mi_bits!r} bits"
        )
    return float(mi_bits)


@dataclasses.dataclass(frozen=True)
class UniformCircleTask:
    """x ~ U(0, 1)^dim, y = (x + w u) mod 1 per coordinate, w = exp(-I / dim): I(X;Y) = ``mi_bits``."""

    dim: int = 1
    mi_bits: float = 1.0

    def __post_init__(self):
        check_mi_bits(self.mi_bits, self.dim)

    @property
    def width(self) -> float:
        return math.exp(-self.mi_bits * LN2 / self.dim)

    def sample(self, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(seed)
        x = rng.uniform(0.0, 1.0, size=(n, self.dim))
        return x, np.mod(x + self.width * rng.uniform(0.0, 1.0, size=(n, self.dim)), 1.0)


def source_task(source: str, dim: int, mi_bits: float, mixing_seed: int | None = 0):
    """The source pair on the unit cube: a task whose ``sample`` gives (n, dim) arrays in [0, 1]."""
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, got {source!r}")
    check_mi_bits(mi_bits, dim)
    if source == "uniform":
        return UniformCircleTask(dim, mi_bits)
    return GaussianTask(dim, dim, mi_bits, mixing_seed=mixing_seed)


def _pixel_centres(size: int) -> np.ndarray:
    return (np.arange(size) + 0.5) / size


def gaussian_bumps(u: np.ndarray, size: int = 16, width: float = 0.1) -> np.ndarray:
    """(n, 2) centres in [0, 1]^2 -> (n, size, size) float32 images of a Gaussian bump (row: u[:, 0])."""
    g = _pixel_centres(size)
    a = np.exp(-((g[None, :] - u[:, 0:1]) ** 2) / (2 * width**2))
    b = np.exp(-((g[None, :] - u[:, 1:2]) ** 2) / (2 * width**2))
    return (a[:, :, None] * b[:, None, :]).astype(np.float32)


def bump_centres(images: np.ndarray, width: float = 0.1, floor: float = 1e-4) -> np.ndarray:
    """Invert :func:`gaussian_bumps`: log I = -|g - u|^2 / (2 s^2) is linear in g given u; the least
    squares fit over the pixels above ``floor`` gives u. images: (n, size, size) -> (n, 2)."""
    n, size, _ = images.shape
    g = _pixel_centres(size)
    out = np.empty((n, 2))
    for axis in (0, 1):
        profile = images.max(axis=2 - axis).astype(np.float64)  # the bump's profile along this axis
        for i in range(n):
            keep = profile[i] > floor
            # log p(g) = c - (g - u)^2 / (2 s^2): a parabola in g whose vertex is u
            c2, c1, _ = np.polyfit(g[keep], np.log(profile[i, keep]), 2)
            out[i, axis] = -c1 / (2 * c2)
    return out


def rectangle_edges(u: np.ndarray, min_size: float = 0.1) -> np.ndarray:
    """(n, 4) in [0, 1]^4 -> (n, 4) edges (top, bottom, left, right): a = u1 (1 - m), b = a + m + u2 (1 - m - a)."""
    top = u[:, 0] * (1 - min_size)
    bottom = top + min_size + u[:, 1] * (1 - min_size - top)
    left = u[:, 2] * (1 - min_size)
    right = left + min_size + u[:, 3] * (1 - min_size - left)
    return np.stack([top, bottom, left, right], axis=1)


def _coverage(lo: np.ndarray, hi: np.ndarray, size: int) -> np.ndarray:
    """(n,) intervals -> (n, size): the fraction of every pixel [i/size, (i+1)/size] that [lo, hi] covers."""
    edges = np.arange(size + 1) / size
    overlap = np.minimum(hi[:, None], edges[None, 1:]) - np.maximum(lo[:, None], edges[None, :-1])
    return np.clip(overlap * size, 0.0, 1.0)


def rectangles(u: np.ndarray, size: int = 32, min_size: float = 0.1) -> np.ndarray:
    """(n, 4) sources in [0, 1]^4 -> (n, size, size) float32 anti-aliased rectangles."""
    e = rectangle_edges(u, min_size)
    rows, cols = _coverage(e[:, 0], e[:, 1], size), _coverage(e[:, 2], e[:, 3], size)
    return (rows[:, :, None] * cols[:, None, :]).astype(np.float32)


def rectangle_corners(images: np.ndarray) -> np.ndarray:
    """Invert :func:`rectangles` up to the edges: (n, size, size) -> (n, 4) (top, bottom, left, right).

    With min_size >= 2 / size a pixel row is fully covered, so the profile along an axis (the max
    over the other) is the coverage; the first covered pixel i0 gives lo = (i0 + 1 - c) / size and
    the last i1 gives hi = (i1 + c) / size."""
    n, size, _ = images.shape
    out = np.empty((n, 4))
    for axis, (lo, hi) in ((0, (0, 1)), (1, (2, 3))):
        profile = images.max(axis=2 - axis).astype(np.float64)
        for i in range(n):
            covered = np.flatnonzero(profile[i] > 1e-6)
            i0, i1 = covered[0], covered[-1]
            out[i, lo] = (i0 + 1 - profile[i, i0]) / size
            out[i, hi] = (i1 + profile[i, i1]) / size
    return out


@dataclasses.dataclass(frozen=True)
class ImageTask:
    """Pairs of images whose MI is that of their source: ``sample(n, seed) -> (x, y)``, each (n, size^2)
    float32 (flattened; ``image_shape`` gives (size, size)), with I(X;Y) = ``mi_bits``.

    family: ``gaussian_bumps`` (2-d source) or ``rectangles`` (4-d source); source: ``gaussian`` or
    ``uniform`` (module docstring); size: image side in pixels; width: the bump's std (unit square);
    min_size: the rectangles' smallest side (unit square, at least 2 pixels); mixing_seed: the
    rotations of the Gaussian source.
    """

    family: str = "gaussian_bumps"
    mi_bits: float = 1.0
    source: str = "gaussian"
    size: int = 16
    width: float = 0.1
    min_size: float = 0.1
    mixing_seed: int | None = 0

    def __post_init__(self):
        if self.family not in FAMILIES:
            raise ValueError(f"family must be one of {tuple(FAMILIES)}, got {self.family!r}")
        if not isinstance(self.size, int) or self.size < 4:
            raise ValueError(f"size must be an integer >= 4 pixels, got {self.size!r}")
        if self.family == "gaussian_bumps" and not 0 < self.width:
            raise ValueError(f"width must be > 0, got {self.width!r}")
        if self.family == "rectangles" and not 2 / self.size <= self.min_size < 1:
            raise ValueError(f"min_size must lie in [2/size, 1) = [{2 / self.size:.3g}, 1), got {self.min_size!r}")
        source_task(self.source, self.source_dim, self.mi_bits, self.mixing_seed)

    @property
    def source_dim(self) -> int:
        return FAMILIES[self.family]

    @property
    def image_shape(self) -> tuple[int, int]:
        return (self.size, self.size)

    @property
    def dim_x(self) -> int:
        return self.size * self.size

    dim_y = dim_x

    def sample_sources(self, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """The source pair mapped to the unit cube: (n, source_dim) each, in [0, 1]."""
        a, b = source_task(self.source, self.source_dim, self.mi_bits, self.mixing_seed).sample(n, seed)
        if self.source == "gaussian":
            a, b = special.ndtr(a), special.ndtr(b)
        return a, b

    def render(self, u: np.ndarray) -> np.ndarray:
        """(n, source_dim) in [0, 1] -> (n, size, size) float32 images."""
        if self.family == "gaussian_bumps":
            return gaussian_bumps(u, self.size, self.width)
        return rectangles(u, self.size, self.min_size)

    def sample(self, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        a, b = self.sample_sources(n, seed)
        return self.render(a).reshape(n, -1), self.render(b).reshape(n, -1)
