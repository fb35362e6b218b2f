"""The known-MI benchmark suite: the 40 tasks of Czyz et al. (2023, "Beyond normal"), as in bmi.

:func:`benchmark_tasks` is the v1 list of the paper's code (``bmi.benchmark.task_list.
BENCHMARK_TASKS_LIST`` of the PyPI package ``benchmark-mi`` 0.1.3), task by task: the same
distributions with the same parameters, dimensions and ground truth, sampled here with numpy
(the draws differ from bmi's, the laws do not). The families:

- 1+1: the bivariate normal at correlation 0.75 and, from it, its normal CDF ("uniform"), the
  bimodal marginals (inverse CDFs of 0.3 N(0,1) + 0.7 N(5,1) and 0.5 N(-1,1) + 0.5 N(3,1) after
  the normal CDF), bmi's two wiggly maps (one for x, another for y) and the half-cube map; the
  Student-t (1 dof) and its asinh; additive uniform noise U(-eps, eps) at eps = 0.1 and 0.75.
- the swiss roll (2+1) of the uniform (normal-CDF) pair: x embedded, y uniform.
- dense Gaussians 2+2 to 50+50: every pair of coordinates (within and across x and y)
  correlated 0.5; "2-pair" Gaussians 2+2 to 25+25 (bmi's ``strength`` 2.0: two pairs at
  correlation 0.8, every other coordinate independent).
- Student-t 2+2 to 5+5 with identity dispersion (all of the MI is in the tails), also under asinh.
- the 2-pair Gaussians 3+3, 5+5 and 25+25 under the normal CDF, the half-cube map, the spiral,
  and the spiral of their normal CDF. bmi's spiral: x -> exp(|x|^2 (speed / d) A) x with A the
  generator of the rotations of coordinates (0, 1) for x and (1, 2) for y, speed 1 (normalised
  by the dimension d of each side).

Differences from bmi, below any estimator's resolution: samples are float64 (bmi's JAX maps run
in float32 by default: the maps agree to 2e-6, the bimodal inverse CDF to 2e-5); the bimodal
inverse CDF is solved by bisection on [-40, 40] (bmi's on [-10, 10] clamps the top 2e-7 of the x
marginal). The truths agree with bmi's ``mutual_information`` to 1e-14 bits. The test
``tests/test_suite_bmi.py`` holds bmi's names, dimensions and truths and checks these against them.

Until this change the suite had tasks of the same families at other parameters (1 bit Gaussians
instead of correlation 0.75, rotated dense Gaussians instead of equicorrelated ones, 1 bit sparse
bases, a 2+5 Gaussian, a 50+50 sparse one, normal-CDF and half-cube 2+2, wiggly 2+2 and 3+3,
our own wiggly constants, two spirals at speed 0.5 on coordinates (0, 1) of both sides, a mixture
bimodal, a swiss roll at rho 0.9 with a Gaussian y) and lacked bmi's 1+1 Gaussian, 3+3 dense
Gaussian, 25+25 spiral and the three spirals of the normal CDF. The tasks it had that bmi lacks
are kept in :func:`extra_tasks` (not part of the suite).

    >>> tasks = benchmark_tasks(); len(tasks)
    40
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np
from scipy import special

from . import AdditiveUniformTask, GaussianTask, StudentTTask, TransformedTask, gaussian_mi_nats
from .transforms import swiss_roll

LN2 = math.log(2.0)
BMI_CORRELATION = 0.75  # bmi's GAUSSIAN_CORRELATION: the 1+1 tasks
PAIR_CORRELATION = 0.8  # bmi's 2-pair Gaussians (LVM strength 2: corr = 4 / (4 + 1))
DENSE_OFF_DIAGONAL = 0.5  # bmi's dense Gaussians


def _mi_of_correlation(rho: float, pairs: int = 1) -> float:
    return -0.5 * pairs * math.log1p(-rho * rho) / LN2


def _gauss_1x1() -> GaussianTask:
    return GaussianTask(1, 1, _mi_of_correlation(BMI_CORRELATION), mixing_seed=None)


def _two_pair(d: int) -> GaussianTask:
    """bmi's task_multinormal_2pair(d, d): coordinates 0 and 1 of x and y correlated 0.8, no rotation."""
    return GaussianTask(d, d, _mi_of_correlation(PAIR_CORRELATION, 2), n_interacting=2, mixing_seed=None)


@dataclasses.dataclass(frozen=True)
class DenseGaussianTask:
    """bmi's task_multinormal_dense: unit variances and correlation ``off_diag`` between every two coordinates."""

    dim_x: int
    dim_y: int
    off_diag: float = DENSE_OFF_DIAGONAL

    @property
    def covariance(self) -> np.ndarray:
        d = self.dim_x + self.dim_y
        return np.eye(d) * (1.0 - self.off_diag) + self.off_diag

    @property
    def mi_bits(self) -> float:
        return gaussian_mi_nats(self.covariance, self.dim_x) / LN2

    def sample(self, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(seed)
        z = rng.multivariate_normal(np.zeros(self.dim_x + self.dim_y), self.covariance, size=n, method="cholesky")
        return z[:, : self.dim_x], z[:, self.dim_x :]


@dataclasses.dataclass(frozen=True)
class MappedTask:
    """A base task with an injective map ``fx`` of x and ``fy`` of y (the MI of the base); ``label`` names them."""

    base: object
    fx: Callable[[np.ndarray], np.ndarray]
    fy: Callable[[np.ndarray], np.ndarray]
    label: str

    @property
    def mi_bits(self) -> float:
        return self.base.mi_bits

    @property
    def dim_x(self) -> int:
        return int(getattr(self.fx, "dim_out", self.base.dim_x))

    @property
    def dim_y(self) -> int:
        return int(getattr(self.fy, "dim_out", self.base.dim_y))

    def sample(self, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        x, y = self.base.sample(n, seed)
        return self.fx(x), self.fy(y)


def normal_cdf(a: np.ndarray) -> np.ndarray:
    return special.ndtr(a)


def bmi_wiggly_x(a: np.ndarray) -> np.ndarray:
    """bmi's wiggly_x: derivative >= 1 - 0.4 - 0.34 - 0.099 > 0."""
    return a + 0.4 * np.sin(a) + 0.2 * np.sin(1.7 * a + 1.0) + 0.03 * np.sin(3.3 * a - 2.5)


def bmi_wiggly_y(a: np.ndarray) -> np.ndarray:
    """bmi's wiggly_y: derivative >= 1 - 0.16 - 0.221 - 0.086 > 0."""
    return a - 0.4 * np.sin(0.4 * a) + 0.17 * np.sin(1.3 * a + 3.5) + 0.02 * np.sin(4.3 * a - 2.5)


@dataclasses.dataclass(frozen=True)
class Spiral:
    """bmi's Spiral with so_generator(d, i, j): rotate coordinates (i, j) by the angle speed |a|^2.

    expm(theta A) for A[i, j] = -1, A[j, i] = 1 is the rotation a_i -> cos a_i - sin a_j,
    a_j -> sin a_i + cos a_j; the norm is kept, so the map inverts (rotate back by the same angle)."""

    i: int
    j: int
    speed: float

    def __call__(self, a: np.ndarray) -> np.ndarray:
        if a.shape[1] <= self.j:
            raise ValueError(f"the spiral on coordinates ({self.i}, {self.j}) needs more than {self.j} columns")
        theta = self.speed * (a * a).sum(axis=1)
        c, s = np.cos(theta), np.sin(theta)
        out = a.copy()
        out[:, self.i] = c * a[:, self.i] - s * a[:, self.j]
        out[:, self.j] = s * a[:, self.i] + c * a[:, self.j]
        return out


def _spiralise(base, label: str) -> MappedTask:
    """bmi's transform_spiral_task(base): speed 1 / dim on coordinates (0, 1) of x and (1, 2) of y."""
    sx, sy = Spiral(0, 1, 1.0 / base.dim_x), Spiral(1, 2, 1.0 / base.dim_y)
    return MappedTask(base, sx, sy, label)


@dataclasses.dataclass(frozen=True)
class MixtureQuantile:
    """The inverse CDF of a mixture of unit-variance normals, sum_i w_i N(m_i, 1), on (0, 1) (bisection)."""

    weights: tuple[float, ...]
    means: tuple[float, ...]

    def cdf(self, t: np.ndarray) -> np.ndarray:
        return sum(w * special.ndtr(t - m) for w, m in zip(self.weights, self.means, strict=True))

    def __call__(self, u: np.ndarray) -> np.ndarray:
        lo, hi = np.full(u.shape, -40.0), np.full(u.shape, 40.0)
        for _ in range(80):  # 80 halvings of 80: below float64 resolution
            mid = 0.5 * (lo + hi)
            below = self.cdf(mid) < u
            lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
        return 0.5 * (lo + hi)


_BIMODAL_X = MixtureQuantile((0.3, 0.7), (0.0, 5.0))
_BIMODAL_Y = MixtureQuantile((0.5, 0.5), (-1.0, 3.0))


def bimodal_x(a: np.ndarray) -> np.ndarray:
    """bmi's bimodal x: the quantile of 0.3 N(0, 1) + 0.7 N(5, 1) at normal_cdf(a)."""
    return _BIMODAL_X(normal_cdf(a))


def bimodal_y(a: np.ndarray) -> np.ndarray:
    """bmi's bimodal y: the quantile of 0.5 N(-1, 1) + 0.5 N(3, 1) at normal_cdf(a)."""
    return _BIMODAL_Y(normal_cdf(a))


class _SwissRoll:
    """bmi's swissroll2d of u = normal_cdf(a) in (0, 1); :func:`.transforms.swiss_roll` of a."""

    dim_out = 2

    def __call__(self, a: np.ndarray) -> np.ndarray:
        return swiss_roll(a)


def benchmark_tasks() -> dict[str, object]:
    """The 40 tasks of bmi's v1 list, in its order, by name (``{family}_{dx}x{dy}[_detail]``).

    Each has ``sample(n, seed)``, ``mi_bits``, ``dim_x`` and ``dim_y``."""
    binormal = _gauss_1x1()
    tasks: dict[str, object] = {
        "gaussian_1x1": binormal,
        "normal_cdf_1x1": TransformedTask(binormal, "normal_cdf"),
        "additive_uniform_1x1_eps0.1": AdditiveUniformTask(1, 0.2),
        "additive_uniform_1x1_eps0.75": AdditiveUniformTask(1, 1.5),
        "bimodal_1x1": MappedTask(binormal, bimodal_x, bimodal_y, "bimodal"),
        "wiggly_1x1": MappedTask(binormal, bmi_wiggly_x, bmi_wiggly_y, "wiggly"),
        "half_cube_1x1": TransformedTask(binormal, "half_cube"),
        "student_t_1x1_dof1": StudentTTask(1, 1, 0.0, 1.0),
        "asinh_student_t_1x1_dof1": TransformedTask(StudentTTask(1, 1, 0.0, 1.0), "asinh"),
        "swissroll_2x1": MappedTask(binormal, _SwissRoll(), normal_cdf, "swissroll"),
    }
    for d in (2, 3, 5, 25, 50):
        tasks[f"gaussian_dense_{d}x{d}"] = DenseGaussianTask(d, d)
    for d in (2, 3, 5, 25):
        tasks[f"gaussian_sparse_{d}x{d}"] = _two_pair(d)
    for d, dof in [(2, 1), (2, 2), (3, 2), (3, 3), (5, 2), (5, 3)]:
        tasks[f"student_t_{d}x{d}_dof{dof}"] = StudentTTask(d, d, 0.0, float(dof))
    for d in (3, 5, 25):
        tasks[f"normal_cdf_{d}x{d}"] = TransformedTask(_two_pair(d), "normal_cdf")
    for d in (3, 5, 25):
        tasks[f"half_cube_{d}x{d}"] = TransformedTask(_two_pair(d), "half_cube")
    for d in (3, 5, 25):
        tasks[f"spiral_{d}x{d}"] = _spiralise(_two_pair(d), "spiral")
    for d in (3, 5, 25):
        tasks[f"spiral_normal_cdf_{d}x{d}"] = _spiralise(TransformedTask(_two_pair(d), "normal_cdf"), "spiral")
    for d, dof in [(2, 1), (3, 2), (5, 2)]:
        tasks[f"asinh_student_t_{d}x{d}_dof{dof}"] = TransformedTask(StudentTTask(d, d, 0.0, float(dof)), "asinh")
    return tasks


# bmi's task id for each task of benchmark_tasks(), in the same order (the v1 list).
BMI_IDS = {
    "gaussian_1x1": "1v1-normal-0.75",
    "normal_cdf_1x1": "normal_cdf-1v1-normal-0.75",
    "additive_uniform_1x1_eps0.1": "1v1-additive-0.1",
    "additive_uniform_1x1_eps0.75": "1v1-additive-0.75",
    "bimodal_1x1": "1v1-bimodal-0.75",
    "wiggly_1x1": "wiggly-1v1-normal-0.75",
    "half_cube_1x1": "half_cube-1v1-normal-0.75",
    "student_t_1x1_dof1": "student-identity-1-1-1",
    "asinh_student_t_1x1_dof1": "asinh-student-identity-1-1-1",
    "swissroll_2x1": "swissroll_x-normal_cdf-1v1-normal-0.75",
    **{f"gaussian_dense_{d}x{d}": f"multinormal-dense-{d}-{d}-0.5" for d in (2, 3, 5, 25, 50)},
    **{f"gaussian_sparse_{d}x{d}": f"multinormal-sparse-{d}-{d}-2-2.0" for d in (2, 3, 5, 25)},
    **{
        f"student_t_{d}x{d}_dof{f}": f"student-identity-{d}-{d}-{f}"
        for d, f in [(2, 1), (2, 2), (3, 2), (3, 3), (5, 2), (5, 3)]
    },  # fmt: skip
    **{f"normal_cdf_{d}x{d}": f"normal_cdf-multinormal-sparse-{d}-{d}-2-2.0" for d in (3, 5, 25)},
    **{f"half_cube_{d}x{d}": f"half_cube-multinormal-sparse-{d}-{d}-2-2.0" for d in (3, 5, 25)},
    **{f"spiral_{d}x{d}": f"spiral-multinormal-sparse-{d}-{d}-2-2.0" for d in (3, 5, 25)},
    **{f"spiral_normal_cdf_{d}x{d}": f"spiral-normal_cdf-multinormal-sparse-{d}-{d}-2-2.0" for d in (3, 5, 25)},
    **{f"asinh_student_t_{d}x{d}_dof{f}": f"asinh-student-identity-{d}-{d}-{f}" for d, f in [(2, 1), (3, 2), (5, 2)]},
}


def extra_tasks() -> dict[str, object]:
    """Tasks the suite had before it followed bmi, with no bmi counterpart (not part of the suite):
    an asymmetric 2+5 Gaussian, a 50+50 sparse one, 2+2 normal-CDF and half-cube maps and our wiggly
    map (constants of :mod:`.transforms`) in 2+2 and 3+3, each on 1 bit Gaussians."""
    sparse = {d: GaussianTask(d, d, 1.0, n_interacting=min(2, d) if d > 2 else 1, mixing_seed=None) for d in (2, 3, 50)}
    return {
        "gaussian_dense_2x5": GaussianTask(2, 5, 1.0),
        "gaussian_sparse_50x50": sparse[50],
        "normal_cdf_2x2": TransformedTask(sparse[2], "normal_cdf"),
        "half_cube_2x2": TransformedTask(sparse[2], "half_cube"),
        "wiggly_2x2": TransformedTask(sparse[2], "wiggly"),
        "wiggly_3x3": TransformedTask(sparse[3], "wiggly"),
    }


__all__ = ["BMI_IDS", "DenseGaussianTask", "MappedTask", "Spiral", "benchmark_tasks", "extra_tasks"]
