"""The t-copula estimator: fit a Student-t copula to the ranks, report the MI of that copula.

MI depends on the copula alone, so an estimator that sees only ranks is invariant to every
strictly monotone map of each coordinate (increasing or decreasing). This one assumes the copula
of (X, Y) is that of a multivariate Student-t with correlation matrix R and nu degrees of freedom
(nu = infinity: the Gaussian copula), and fits it in the usual semi-parametric way:

1. pseudo-observations u = rank / (n + 1) per coordinate (average ranks for ties);
2. R from Kendall's tau, R_ij = sin(pi/2 tau_ij), which holds for every elliptical copula
   (Lindskog, McNeil & Schmock 2003); where the result is not positive definite, it is projected
   to the nearest correlation matrix (Higham 2002, alternating projections) with eigenvalues
   >= ``MIN_EIGENVALUE``;
3. nu by maximum likelihood of the t-copula density with R fixed, over a log-spaced grid on
   [``MIN_DOF``, ``MAX_DOF``] refined by a bounded 1-d search around the best grid point, with
   nu = infinity (the Gaussian copula) as one more candidate;
4. the MI of the multivariate t with (R, nu) in closed form (Arellano-Valle, Contreras-Reyes &
   Genton 2013): the Gaussian part -1/2 ln(det R / (det R_xx det R_yy)) plus the tail term of
   :func:`t_tail_mi_nats`, which is > 0 for finite nu even at R = I.

When it is right: the copula is a t copula, the Gaussian one included, whatever the marginals:
Student-t data under any per-coordinate monotone map (the suite's student_t and asinh_student_t
tasks: all nine of 2+2 to 5+5 within 5% at n = 5000, where KSG on copula scores is 7-45% low),
Gaussians under monotone maps (normal CDF, half-cube, wiggly: within 4% of the Gaussian-copula
estimate, up to 50+50). When it is not: dependence a t copula cannot express. It reports the MI of
the best-fitting t copula only, so it misses rotated or non-monotone structure (spiral 3+3 and
5+5: 0.16 and 0.05 bits of 1; swiss roll: 0.05 of 1.2; the bimodal mixture: 0.42 of 0.78) and
understates non-elliptical tail dependence (Clayton copulas 1+1 to 3+3: 10-21% low; x normal plus
Cauchy noise: 16-30% low). In all of these it came out below the truth; nothing guarantees that in
general (unlike the Gaussian copula, which has the least MI for given normal-score correlations).
Its interval (a parametric bootstrap from the fit, :func:`parametric_interval`) covers sampling
error and finite-n bias where the copula is a t copula, never that model error.

Cost: Kendall's tau is O(n log n) per pair, d (d - 1) / 2 pairs in d = dx + dy dimensions
(scipy's merge-sort discordance counter, one sort per column: ~0.2 ms per pair at n = 5000); the
fit of nu is ~40 likelihood evaluations of O(n d^2). Measured at n = 5000 on one thread of a
loaded 2-core machine: the whole fit 0.07 s at 1+1, 0.11 s at 5+5, 0.7 s at 25+25 and 1.6 s at
50+50 (Kendall 1.0 s of it); the parametric interval refits 20 times (2.3 s at 5+5, ~30 s at 50+50).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import torch

from .base import NATS_TO_BITS, check_min_samples, register

MIN_DOF = 0.5
MAX_DOF = 200.0
DOF_GRID_POINTS = 24
MIN_EIGENVALUE = 1e-6


@dataclasses.dataclass(frozen=True)
class TCopulaFit:
    """A fitted t copula: correlation matrix corr (d, d), degrees of freedom dof (math.inf: Gaussian),
    the log-likelihood of the pseudo-observations at that fit and at nu = inf (same corr), and dim_x
    (where x ends), so that :attr:`mi_nats` is the MI of the fit."""

    corr: np.ndarray
    dof: float
    loglik: float
    gaussian_loglik: float
    dim_x: int

    @property
    def tail_statistic(self) -> float:
        """2 (loglik - gaussian_loglik): the likelihood-ratio statistic of finite nu against the Gaussian copula."""
        return max(2.0 * (self.loglik - self.gaussian_loglik), 0.0)

    @property
    def mi_nats(self) -> float:
        return t_mi_nats(self.corr, self.dof, self.dim_x)


def t_tail_mi_nats(dof: float, dim_x: int, dim_y: int) -> float:
    """I(X;Y) of a multivariate t with nu = ``dof`` minus that of the Gaussian with the same scale, in nats.

    I = ln[G(nu/2) G((nu+dx+dy)/2) / (G((nu+dx)/2) G((nu+dy)/2))] - (nu+dx+dy)/2 psi((nu+dx+dy)/2)
        + (nu+dx)/2 psi((nu+dx)/2) + (nu+dy)/2 psi((nu+dy)/2) - nu/2 psi(nu/2)
    (Arellano-Valle, Contreras-Reyes & Genton 2013, Scand. J. Stat. 40, 42-62); it falls like
    dx dy / (2 nu^2) and is 0 at nu = infinity.
    """
    from scipy import special

    if math.isinf(dof):
        return 0.0
    if not dof > 0:
        raise ValueError(f"dof must be > 0, got {dof}")
    a, ax, ay, axy = 0.5 * dof, 0.5 * (dof + dim_x), 0.5 * (dof + dim_y), 0.5 * (dof + dim_x + dim_y)
    lg, psi = special.gammaln, special.digamma
    value = (
        lg(a) + lg(axy) - lg(ax) - lg(ay)
        - axy * psi(axy) + ax * psi(ax) + ay * psi(ay) - a * psi(a)
    )  # fmt: skip
    return max(float(value), 0.0)


def gaussian_part_nats(corr: np.ndarray, dim_x: int) -> float:
    """-1/2 ln(det R / (det R_xx det R_yy)) for a (d, d) correlation matrix split after dim_x."""
    ld = lambda m: np.linalg.slogdet(m)[1]  # noqa: E731
    return max(0.5 * float(ld(corr[:dim_x, :dim_x]) + ld(corr[dim_x:, dim_x:]) - ld(corr)), 0.0)


def t_mi_nats(corr: np.ndarray, dof: float, dim_x: int) -> float:
    """I(X;Y) in nats of a multivariate t (or, dof = inf, Gaussian) with correlation/scale matrix ``corr``."""
    return gaussian_part_nats(corr, dim_x) + t_tail_mi_nats(dof, dim_x, corr.shape[0] - dim_x)


def kendall_tau_matrix(a: np.ndarray) -> np.ndarray:
    """(d, d) Kendall tau-b between the columns of a (n, d); constant columns get tau 0.

    Columns without ties go through scipy's merge-sort discordance counter, one sort per column
    (0.2 ms per pair at n = 5000; ``scipy.stats.kendalltau`` costs 4 ms per pair); pairs with a
    tied column, or a scipy without that private counter, use ``scipy.stats.kendalltau``.
    """
    from scipy import stats

    try:
        from scipy.stats._stats import _kendall_dis
    except ImportError:  # pragma: no cover - private scipy helper; the public path is exact too
        _kendall_dis = None
    n, d = a.shape
    order = np.argsort(a, axis=0, kind="stable")
    tied = [bool(np.any(np.diff(a[order[:, j], j]) == 0)) for j in range(d)]
    dense = np.empty((n, d), dtype=np.intp)
    dense[order, np.arange(d)] = np.arange(1, n + 1)[:, None]  # ranks 1..n (exact where there are no ties)
    seq = np.arange(1, n + 1, dtype=np.intp)
    total = n * (n - 1) / 2
    tau = np.eye(d)
    for i in range(d - 1):
        by_i = np.ascontiguousarray(dense[order[:, i]].T)  # row j: column j's ranks in the order of column i
        for j in range(i + 1, d):
            if _kendall_dis is None or tied[i] or tied[j]:
                t = stats.kendalltau(a[:, i], a[:, j]).statistic
                t = 0.0 if not np.isfinite(t) else float(t)
            else:
                t = 1.0 - 2.0 * float(_kendall_dis(seq, by_i[j])) / total
            tau[i, j] = tau[j, i] = t
    return tau


def nearest_correlation(r: np.ndarray, min_eigenvalue: float = MIN_EIGENVALUE, iters: int = 100) -> np.ndarray:
    """r itself when it is a correlation matrix with eigenvalues >= min_eigenvalue, else the nearest such
    matrix in Frobenius norm (Higham 2002: alternating projections with Dykstra's correction)."""
    r = 0.5 * (r + r.T)
    if np.linalg.eigvalsh(r)[0] >= min_eigenvalue:
        return r
    y, correction = r.copy(), np.zeros_like(r)
    for _ in range(iters):
        shifted = y - correction
        w, v = np.linalg.eigh(shifted)
        x = (v * np.maximum(w, min_eigenvalue)) @ v.T
        correction = x - shifted
        y_new = x.copy()
        np.fill_diagonal(y_new, 1.0)
        done = np.linalg.norm(y_new - y) < 1e-10 * max(np.linalg.norm(y), 1.0)
        y = y_new
        if done:
            break
    w, v = np.linalg.eigh(0.5 * (y + y.T))  # guarantee the floor after the unit diagonal was set
    y = (v * np.maximum(w, min_eigenvalue)) @ v.T
    s = np.sqrt(np.diag(y))
    return y / np.outer(s, s)


class _Likelihood:
    """Log-likelihood of the t copula at fixed R as a function of nu, for pseudo-observations u."""

    def __init__(self, ranks: np.ndarray, corr: np.ndarray):
        n, self.d = ranks.shape
        self.n = n
        values, inverse = np.unique(ranks, return_inverse=True)
        self.u = values / (n + 1.0)
        self.inverse = inverse.reshape(ranks.shape)
        # per unique u, how often it occurs over all n x d entries (for the sums over marginals)
        self.counts = np.bincount(self.inverse.ravel(), minlength=values.size)
        self.inv_corr = np.linalg.inv(corr)
        self.logdet = float(np.linalg.slogdet(corr)[1])

    def __call__(self, dof: float) -> float:
        from scipy import special

        n, d = self.n, self.d
        if math.isinf(dof):
            q = special.ndtri(self.u)
            z = q[self.inverse]
            quad = ((z @ self.inv_corr) * z).sum(1) - (z * z).sum(1)
            return float(-0.5 * n * self.logdet - 0.5 * quad.sum())
        q = special.stdtrit(dof, self.u)
        z = q[self.inverse]
        quad = ((z @ self.inv_corr) * z).sum(1)  # a BLAS product: einsum made the fit 3x slower at 50+50
        joint = (
            n * (special.gammaln(0.5 * (dof + d)) - special.gammaln(0.5 * dof)
                 - 0.5 * d * math.log(dof * math.pi) - 0.5 * self.logdet)
            - 0.5 * (dof + d) * np.log1p(quad / dof).sum()
        )  # fmt: skip
        margins = n * d * (
            special.gammaln(0.5 * (dof + 1)) - special.gammaln(0.5 * dof) - 0.5 * math.log(dof * math.pi)
        ) - 0.5 * (dof + 1) * float(self.counts @ np.log1p(q * q / dof))
        return float(joint - margins)


def fit_dof(ranks: np.ndarray, corr: np.ndarray, min_dof: float = MIN_DOF, max_dof: float = MAX_DOF):
    """Maximum-likelihood nu of the t copula with correlation ``corr`` for rank matrix ``ranks`` (n, d).

    A log-spaced grid of ``DOF_GRID_POINTS`` values on [min_dof, max_dof], a bounded search in log nu
    between the best grid point's neighbours, and nu = inf (the Gaussian copula).
    Returns (nu, its log-likelihood, the log-likelihood at nu = inf).
    """
    from scipy import optimize

    loglik = _Likelihood(ranks, corr)
    grid = np.geomspace(min_dof, max_dof, DOF_GRID_POINTS)
    values = np.array([loglik(float(v)) for v in grid])
    best = int(np.nanargmax(values))
    dof, best_ll = float(grid[best]), float(values[best])
    lo, hi = math.log(grid[max(best - 1, 0)]), math.log(grid[min(best + 1, grid.size - 1)])
    res = optimize.minimize_scalar(lambda s: -loglik(math.exp(s)), bounds=(lo, hi), method="bounded",
                                   options={"xatol": 1e-3})  # fmt: skip
    if np.isfinite(res.fun) and -res.fun > best_ll:
        dof, best_ll = float(math.exp(res.x)), float(-res.fun)
    gauss = loglik(math.inf)
    if gauss >= best_ll:
        dof, best_ll = math.inf, gauss
    return dof, best_ll, gauss


def fit_t_copula(z: np.ndarray, dim_x: int, max_dof: float = MAX_DOF) -> TCopulaFit:
    """Fit a t copula to the rows of z (n, d) (see the module docstring); dim_x: where x ends."""
    from scipy import stats

    if not max_dof > MIN_DOF:
        raise ValueError(f"max_dof must be > {MIN_DOF} (the smallest nu searched), got {max_dof!r}")
    z = np.asarray(z, dtype=np.float64)
    ranks = stats.rankdata(z, method="average", axis=0)
    corr = nearest_correlation(np.sin(0.5 * math.pi * kendall_tau_matrix(z)))
    dof, ll, gauss = fit_dof(ranks, corr, max_dof=max_dof)
    return TCopulaFit(corr=corr, dof=dof, loglik=ll, gaussian_loglik=gauss, dim_x=dim_x)


def sample_t_copula(corr: np.ndarray, dof: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """n rows (n, d) of the multivariate t (dof = inf: Gaussian) with correlation ``corr``: their ranks
    are a sample of the t copula, which is all a rank-based fit sees."""
    z = rng.standard_normal((n, corr.shape[0])) @ np.linalg.cholesky(corr).T
    return z if math.isinf(dof) else z / np.sqrt(rng.chisquare(dof, size=(n, 1)) / dof)


def parametric_interval(
    fit: TCopulaFit, n: int, n_resamples: int = 20, level: float = 0.95, seed: int = 0, max_dof: float = MAX_DOF
) -> tuple[float, float, list[float]]:
    """Parametric-bootstrap interval (bits) for the MI of a t-copula fit to n rows.

    Draws ``n_resamples`` samples of n rows from the fitted copula, refits each, and returns the
    basic interval 2 theta - mean(theta*) +- t_{B-1} sd(theta*) (normal approximation, so that 20
    draws suffice), with the refitted values. It covers the sampling error of the fit, and its bias
    at this n, where the copula is a t copula. Measured: the subsampling and protocol intervals of
    the fit understate its spread over samples (at n = 5000 on the suite's 3+3 and 5+5 Student-t
    tasks the sd over 20 samples is 0.013-0.015 bits, while their half-widths gave 0.006-0.01), and
    the fit is 2-3% high (nu is fitted low by ~1%), which this interval's centre removes.
    """
    from .intervals import _t_quantile

    rng = np.random.default_rng(seed)
    point = fit.mi_nats * NATS_TO_BITS
    values = [
        fit_t_copula(sample_t_copula(fit.corr, fit.dof, n, rng), fit.dim_x, max_dof=max_dof).mi_nats * NATS_TO_BITS
        for _ in range(n_resamples)
    ]
    v = np.asarray(values)
    centre = 2 * point - float(v.mean())
    half = _t_quantile(0.5 + level / 2, df=n_resamples - 1) * float(v.std(ddof=1))
    return max(centre - half, 0.0), max(centre + half, 0.0), values


@register("tcopula", ci="parametric", labels_ok=False)
def tcopula_mi_bits(x: torch.Tensor, y: torch.Tensor, max_dof: float = MAX_DOF) -> float:
    """t-copula estimate of I(X;Y) in bits (see the module docstring).

    x: (n, dx), y: (n, dy) floats; only their ranks are used, so any strictly monotone map of any
    coordinate leaves the estimate unchanged. max_dof: the largest finite nu searched (nu = inf,
    the Gaussian copula, is always a candidate). Reference: Demarta & McNeil (2005), "The t copula
    and related copulas"; MI of the multivariate t, Arellano-Valle, Contreras-Reyes & Genton (2013).
    """
    n, dx = x.shape
    check_min_samples(n, dx + y.shape[1] + 2, "the t-copula estimator (n > dx + dy + 1)")
    return _fit(x, y, max_dof).mi_nats * NATS_TO_BITS


def _fit(x: torch.Tensor, y: torch.Tensor, max_dof: float) -> TCopulaFit:
    z = torch.cat([x, y], dim=1).detach().to(device="cpu", dtype=torch.float64).numpy()
    return fit_t_copula(z, x.shape[1], max_dof=max_dof)


def _interval(x, y, *, n_resamples: int = 20, level: float = 0.95, seed: int = 0, max_dof: float = MAX_DOF):
    """The ``"parametric"`` interval of :func:`.__init__.estimate` for tcopula: (low, high) in bits."""
    low, high, _ = parametric_interval(_fit(x, y, max_dof), x.shape[0], n_resamples, level, seed, max_dof)
    return low, high


tcopula_mi_bits.interval = _interval
