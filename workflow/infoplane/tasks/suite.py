"""The known-MI benchmark suite: 40 tasks over the families of Czyz et al. (2023, "Beyond normal").

Families: dense and sparse Gaussians up to 50+50 dimensions; Gaussians under the marginal maps
normal CDF, half-cube, wiggly and asinh, the spiral (a norm-dependent rotation) and the swiss-roll
embedding; multivariate Student-t with 1 to 3 degrees of freedom (identity scale: all of the MI is
in the tails), also under asinh; additive uniform noise; a bimodal 1+1 mixture. Implemented here
with numpy; the ground truth lives with each task (``task.mi_bits``).

    >>> tasks = benchmark_tasks(); len(tasks)
    40
"""

from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np
from scipy import stats

from . import AdditiveUniformTask, GaussianTask, StudentTTask, TransformedTask
from .transforms import swiss_roll

LN2 = math.log(2.0)


@dataclasses.dataclass(frozen=True)
class SwissRollTask:
    """x: the swiss-roll embedding (2-d) of a standard normal that correlates with y (1-d) at ``rho``."""

    rho: float = 0.9

    dim_x = 2
    dim_y = 1

    @property
    def mi_bits(self) -> float:
        return -0.5 * math.log(1.0 - self.rho**2) / LN2

    def sample(self, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(seed)
        z = rng.multivariate_normal([0.0, 0.0], [[1.0, self.rho], [self.rho, 1.0]], size=n, method="cholesky")
        return swiss_roll(z[:, :1]), z[:, 1:]


# Two equally likely 2-d Gaussian components, dependent in opposite directions: bimodal marginals.
_BIMODAL = (
    (np.array([-1.5, -1.5]), np.array([[1.0, 0.5], [0.5, 1.0]])),
    (np.array([1.5, 1.5]), np.array([[1.0, -0.5], [-0.5, 1.0]])),
)


@dataclasses.dataclass(frozen=True)
class BimodalTask:
    """(x, y) 1+1 from an equal mixture of two Gaussians. The MI has no closed form; it is the Monte
    Carlo mean of log p(x, y) / (p(x) p(y)) over 400,000 draws (exact densities; error ~1e-3 bits)."""

    dim_x = 1
    dim_y = 1

    def sample(self, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(seed)
        which = rng.integers(0, 2, n)
        z = np.empty((n, 2))
        for c, (mean, cov) in enumerate(_BIMODAL):
            idx = np.flatnonzero(which == c)
            z[idx] = rng.multivariate_normal(mean, cov, size=len(idx), method="cholesky")
        return z[:, :1], z[:, 1:]

    @property
    def mi_bits(self) -> float:
        return _bimodal_mi_bits()


@functools.cache
def _bimodal_mi_bits() -> float:
    x, y = BimodalTask().sample(400_000, seed=12345)
    z = np.column_stack([x, y])
    joint = sum(0.5 * stats.multivariate_normal(m, c).pdf(z) for m, c in _BIMODAL)
    px = sum(0.5 * stats.norm(m[0], math.sqrt(c[0, 0])).pdf(x[:, 0]) for m, c in _BIMODAL)
    py = sum(0.5 * stats.norm(m[1], math.sqrt(c[1, 1])).pdf(y[:, 0]) for m, c in _BIMODAL)
    return float(np.mean(np.log(joint) - np.log(px) - np.log(py))) / LN2


def _gauss(dx: int, dy: int, mi: float, sparse: bool = False) -> GaussianTask:
    """Dense: every coordinate pair interacts, both sides rotated; sparse: 2 pairs (1 pair in 2x2), no rotation."""
    if sparse:
        return GaussianTask(dx, dy, mi, n_interacting=min(2, dx, dy) if dx > 2 else 1, mixing_seed=None)
    return GaussianTask(dx, dy, mi)


def benchmark_tasks() -> dict[str, object]:
    """The 40 tasks, by name (``{family}_{dx}x{dy}[_detail]``): each has sample(n, seed) and mi_bits."""

    def tr(base, name):
        return TransformedTask(base, name)

    tasks: dict[str, object] = {
        # one- and two-dimensional
        "normal_cdf_1x1": tr(_gauss(1, 1, 0.6), "normal_cdf"),
        "half_cube_1x1": tr(_gauss(1, 1, 1.0), "half_cube"),
        "wiggly_1x1": tr(_gauss(1, 1, 1.0), "wiggly"),
        "bimodal_1x1": BimodalTask(),
        "swissroll_2x1": SwissRollTask(0.9),
        "additive_uniform_1x1_eps0.1": AdditiveUniformTask(1, 0.2),
        "additive_uniform_1x1_eps0.75": AdditiveUniformTask(1, 1.5),
        "asinh_student_t_1x1_dof1": tr(StudentTTask(1, 1, 0.0, 1.0), "asinh"),
    }
    for dx, dy, mi in [(2, 2, 1.0), (2, 5, 1.0), (5, 5, 1.5), (25, 25, 2.0), (50, 50, 2.0)]:
        tasks[f"gaussian_dense_{dx}x{dy}"] = _gauss(dx, dy, mi)
    for d in (2, 3, 5, 25, 50):
        tasks[f"gaussian_sparse_{d}x{d}"] = _gauss(d, d, 1.0, sparse=True)
    for d, dof in [(1, 1), (2, 1), (2, 2), (3, 2), (3, 3), (5, 2), (5, 3)]:
        tasks[f"student_t_{d}x{d}_dof{dof}"] = StudentTTask(d, d, 0.0, float(dof))
    for d in (2, 3, 5, 25):
        tasks[f"normal_cdf_{d}x{d}"] = tr(_gauss(d, d, 1.0, sparse=True), "normal_cdf")
        tasks[f"half_cube_{d}x{d}"] = tr(_gauss(d, d, 1.0, sparse=True), "half_cube")
    for d in (3, 5):
        tasks[f"spiral_{d}x{d}"] = tr(_gauss(d, d, 1.0, sparse=True), "spiral")
    for d, dof in [(2, 1), (3, 2), (5, 2)]:
        tasks[f"asinh_student_t_{d}x{d}_dof{dof}"] = tr(StudentTTask(d, d, 0.0, float(dof)), "asinh")
    for d in (2, 3):
        tasks[f"wiggly_{d}x{d}"] = tr(_gauss(d, d, 1.0, sparse=True), "wiggly")
    return tasks
