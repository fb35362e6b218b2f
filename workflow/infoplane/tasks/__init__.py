"""Distributions whose mutual information is known in closed form: the ground truth of the estimators.

Every task samples pairs with ``sample(n, seed) -> (x, y)``, numpy float64 arrays of shapes
(n, dim_x) and (n, dim_y), and knows ``mi_bits``, the exact I(X;Y) in bits. The tasks follow the
benchmark of Czyz, Grabowski, Vogt, Beerenwinkel & Marx (2023), "Beyond normal: on the
evaluation of mutual information estimators" (NeurIPS), whose principle is used here too: an
injective (here: coordinatewise monotone, or norm-preserving rotation) map applied to X and Y
separately leaves I(X;Y) unchanged, so non-Gaussian tasks with a known MI come for free.

    >>> task = make_task("gaussian", dim_x=5, dim_y=5, mi_bits=1.0)
    >>> x, y = task.sample(1000, seed=0); task.mi_bits
    1.0
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np
from scipy import special, stats

LN2 = math.log(2.0)


def gaussian_mi_nats(cov: np.ndarray, dim_x: int) -> float:
    """I(X;Y) in nats of a joint Gaussian with covariance ``cov`` ((dx+dy, dx+dy)), X the first dim_x."""
    _, ld = np.linalg.slogdet(cov)
    _, ldx = np.linalg.slogdet(cov[:dim_x, :dim_x])
    _, ldy = np.linalg.slogdet(cov[dim_x:, dim_x:])
    return 0.5 * (ldx + ldy - ld)


def _random_rotation(d: int, rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    return q * np.sign(np.diag(r))


@dataclasses.dataclass(frozen=True)
class GaussianTask:
    """Correlated Gaussians: x ~ N(0, I_dx) and y ~ N(0, I_dy) with corr(x_i, y_i) = rho for the
    first ``n_interacting`` coordinate pairs (default min(dx, dy)) and 0 otherwise, then each of x
    and y rotated by a fixed random orthogonal matrix (``mixing_seed``; None: no rotation).

    rho is set so that I(X;Y) = ``mi_bits``: I = -(k/2) log(1 - rho^2) nats for k pairs.
    """

    dim_x: int = 1
    dim_y: int = 1
    mi_bits: float = 1.0
    n_interacting: int | None = None
    mixing_seed: int | None = 0

    def __post_init__(self):
        if self.dim_x < 1 or self.dim_y < 1:
            raise ValueError(f"dim_x and dim_y must be >= 1, got {self.dim_x} and {self.dim_y}")
        if self.mi_bits < 0:
            raise ValueError(f"mi_bits must be >= 0, got {self.mi_bits}")
        k = self.pairs
        if not 1 <= k <= min(self.dim_x, self.dim_y):
            raise ValueError(f"n_interacting must lie in [1, {min(self.dim_x, self.dim_y)}], got {k}")

    @property
    def pairs(self) -> int:
        return min(self.dim_x, self.dim_y) if self.n_interacting is None else self.n_interacting

    @property
    def rho(self) -> float:
        return math.sqrt(1.0 - math.exp(-2.0 * self.mi_bits * LN2 / self.pairs))

    @property
    def covariance(self) -> np.ndarray:
        """(dx+dy, dx+dy) covariance of the unrotated pair (rotation does not change MI)."""
        dx, dy = self.dim_x, self.dim_y
        cov = np.eye(dx + dy)
        for i in range(self.pairs):
            cov[i, dx + i] = cov[dx + i, i] = self.rho
        return cov

    def _rotations(self):
        if self.mixing_seed is None:
            return np.eye(self.dim_x), np.eye(self.dim_y)
        rng = np.random.default_rng(self.mixing_seed)
        return _random_rotation(self.dim_x, rng), _random_rotation(self.dim_y, rng)

    def sample(self, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(seed)
        z = rng.multivariate_normal(
            np.zeros(self.dim_x + self.dim_y), self.covariance, size=n, method="cholesky"
        )
        rx, ry = self._rotations()
        return z[:, : self.dim_x] @ rx.T, z[:, self.dim_x :] @ ry.T


def _spiral(a: np.ndarray, speed: float) -> np.ndarray:
    """Rotate the first two coordinates by the angle speed * |a|^2: a diffeomorphism (the norm, hence
    the angle, is kept, so it inverts), as in Czyz et al. (2023)."""
    if a.shape[1] < 2:
        raise ValueError("the spiral transform needs at least 2 dimensions")
    theta = speed * (a * a).sum(axis=1)
    c, s = np.cos(theta), np.sin(theta)
    out = a.copy()
    out[:, 0] = c * a[:, 0] - s * a[:, 1]
    out[:, 1] = s * a[:, 0] + c * a[:, 1]
    return out


TRANSFORMS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "normal_cdf": lambda a: stats.norm.cdf(a),
    "asinh": np.arcsinh,
    "cube": lambda a: a**3,
    "spiral": lambda a: _spiral(a, 0.5),
}


@dataclasses.dataclass(frozen=True)
class TransformedTask:
    """A base task with the same MI-preserving injective map applied to x and to y."""

    base: object
    transform: str

    def __post_init__(self):
        if self.transform not in TRANSFORMS:
            raise ValueError(f"transform must be one of {tuple(TRANSFORMS)}, got {self.transform!r}")

    @property
    def mi_bits(self) -> float:
        return self.base.mi_bits

    @property
    def dim_x(self) -> int:
        return self.base.dim_x

    @property
    def dim_y(self) -> int:
        return self.base.dim_y

    def sample(self, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        x, y = self.base.sample(n, seed)
        f = TRANSFORMS[self.transform]
        return f(x), f(y)


def student_t_correction_nats(dof: float, dim_x: int, dim_y: int) -> float:
    """I(X;Y) of a multivariate Student-t minus that of the Gaussian with the same scale matrix, in nats.

    From the entropy of the multivariate t (Arellano-Valle, Contreras-Reyes & Genton 2013):
    h = 1/2 log det S + log[(nu pi)^(d/2) G(nu/2) / G((nu+d)/2)] + (nu+d)/2 [psi((nu+d)/2) - psi(nu/2)];
    the marginals are t with the same nu, and h(X) + h(Y) - h(X,Y) leaves this term.
    """

    def f(d):
        a = 0.5 * (dof + d)
        return (
            special.gammaln(0.5 * dof)
            - special.gammaln(a)
            + a * (special.digamma(a) - special.digamma(0.5 * dof))
        )

    return float(f(dim_x) + f(dim_y) - f(dim_x + dim_y))


@dataclasses.dataclass(frozen=True)
class StudentTTask:
    """Multivariate Student-t with ``dof`` degrees of freedom and the scale matrix of a GaussianTask
    with ``gaussian_mi_bits`` (unrotated). I(X;Y) = the Gaussian MI of the scale matrix plus
    :func:`student_t_correction_nats`, which is > 0: heavy tails share information even at rho = 0."""

    dim_x: int = 1
    dim_y: int = 1
    gaussian_mi_bits: float = 1.0
    dof: float = 5.0

    def __post_init__(self):
        if not self.dof > 0:
            raise ValueError(f"dof must be > 0, got {self.dof}")

    @property
    def _gauss(self) -> GaussianTask:
        return GaussianTask(self.dim_x, self.dim_y, self.gaussian_mi_bits, mixing_seed=None)

    @property
    def mi_bits(self) -> float:
        return self.gaussian_mi_bits + student_t_correction_nats(self.dof, self.dim_x, self.dim_y) / LN2

    def sample(self, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(seed)
        d = self.dim_x + self.dim_y
        z = rng.multivariate_normal(np.zeros(d), self._gauss.covariance, size=n, method="cholesky")
        u = rng.chisquare(self.dof, size=(n, 1))
        t = z / np.sqrt(u / self.dof)
        return t[:, : self.dim_x], t[:, self.dim_x :]


def additive_uniform_mi_nats(width: float) -> float:
    """I(X; X + N) in nats for X ~ U(0, 1), N ~ U(-width/2, width/2).

    Y has a trapezoidal density, h(Y) = width/2 (width <= 1) or log(width) + 1/(2 width) (width > 1),
    and h(Y | X) = log(width); hence I = width/2 - log(width), or 1/(2 width).
    """
    if not width > 0:
        raise ValueError(f"width must be > 0, got {width}")
    return width / 2 - math.log(width) if width <= 1 else 1.0 / (2 * width)


@dataclasses.dataclass(frozen=True)
class AdditiveUniformTask:
    """x ~ U(0, 1)^dim, y = x + U(-width/2, width/2)^dim, independent coordinates (MI adds up)."""

    dim: int = 1
    width: float = 0.5

    @property
    def dim_x(self) -> int:
        return self.dim

    @property
    def dim_y(self) -> int:
        return self.dim

    @property
    def mi_bits(self) -> float:
        return self.dim * additive_uniform_mi_nats(self.width) / LN2

    def sample(self, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(seed)
        x = rng.uniform(0.0, 1.0, size=(n, self.dim))
        return x, x + rng.uniform(-self.width / 2, self.width / 2, size=(n, self.dim))


def _transformed(transform: str):
    def make(**params):
        return TransformedTask(GaussianTask(**params), transform)

    return make


from .transforms import half_cube, wiggly  # noqa: E402  (more maps of Czyz et al. 2023)

TRANSFORMS.update(half_cube=half_cube, wiggly=wiggly)

TASKS: dict[str, Callable[..., object]] = {
    "gaussian": GaussianTask,
    "normal_cdf": _transformed("normal_cdf"),
    "asinh": _transformed("asinh"),
    "cube": _transformed("cube"),
    "spiral": _transformed("spiral"),
    "half_cube": _transformed("half_cube"),
    "wiggly": _transformed("wiggly"),
    "student_t": StudentTTask,
    "additive_uniform": AdditiveUniformTask,
}

from .images import ImageTask  # noqa: E402  (images.py builds on GaussianTask above)

TASKS["gaussian_bumps"] = lambda **params: ImageTask(family="gaussian_bumps", **params)
TASKS["rectangles"] = lambda **params: ImageTask(family="rectangles", **{"size": 32, **params})


def make_task(name: str, **params):
    """Build the task ``name`` from :data:`TASKS` with its parameters (e.g. dim_x, dim_y, mi_bits)."""
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; known: {sorted(TASKS)}")
    try:
        return TASKS[name](**params)
    except TypeError as err:
        raise ValueError(f"bad parameters for task {name!r}: {err}") from None
