"""The weighted Kozachenko-Leonenko entropy estimator, and mutual information from it.

Berrett, Samworth & Yuan (2019), "Efficient multivariate entropy estimation via k-nearest
neighbour distances", Annals of Statistics 47(1). The Kozachenko-Leonenko estimate with the j-th
neighbour, H_j = <log((n - 1) V_d rho_(j)^d)> - psi(j), has a bias whose leading terms are
proportional to Gamma(j + 2l/d) / Gamma(j) n^(-2l/d), l = 1, 2, ...; in d >= 4 dimensions the first
of them decay slower than n^(-1/2). The weighted estimate sum_j w_j H_j with

    sum_j w_j = 1,   sum_j w_j Gamma(j + 2l/d) / Gamma(j) = 0  for l = 1 .. floor(d/4),

and w_j = 0 unless j is one of floor(k/d), floor(2k/d), ..., k, cancels them and is efficient.
Among the weights that satisfy the constraints we take the one of least Euclidean norm (the
least-squares solution of the linear system: the smallest variance inflation). For d <= 3 there
is no constraint and the weight is all on j = k: the plain Kozachenko-Leonenko estimate.

Butakov et al. (2024) use it with k = 5 on whitened data: entropy is estimated on x W with W
the inverse square root of the sample covariance, and log|det W^-1| is added back (h(AX) =
h(X) + log|det A|), so the neighbour distances are not dominated by one scale.

Mutual information: I(X;Y) = H(X) + H(Y) - H(X, Y) for continuous y (each side whitened on its
own; an invertible linear map of each side keeps I, so the joint uses the same maps), and
I(X;Y) = H(X) - sum_c p(c) H(X | Y = c) for integer labels y.
"""

from __future__ import annotations

import functools
import math

import torch

from .base import (
    NATS_TO_BITS,
    check_min_samples,
    check_positive_int,
    cpu_generator,
    is_labels,
    jitter,
    register,
    row_chunks,
)
from .intervals import centre_on_subsample_mean
from .knn import _exclude_self, _Space


def _support(d: int, k: int) -> list[int]:
    """The neighbour ranks j that may carry weight: floor(i k / d) for i = 1..d, those >= 1."""
    return sorted({(i * k) // d for i in range(1, d + 1)} - {0})


@functools.lru_cache(maxsize=256)
def wkl_weights(d: int, k: int) -> tuple[float, ...]:
    """The weights w_1..w_k of Berrett et al. (2019) for dimension ``d`` and ``k`` neighbours (module docstring).

    Raises a ValueError naming ``k`` when k is too small for the floor(d/4) constraints in d dimensions.
    """
    d, k = check_positive_int(d, "d"), check_positive_int(k, "k")
    constraints = d // 4
    if constraints == 0:  # no bias term to cancel: the plain estimator with the k-th neighbour
        return (0.0,) * (k - 1) + (1.0,)
    support = _support(d, k)
    if len(support) < constraints + 1:
        need = next(kk for kk in range(k, 10 * d + 10) if len(_support(d, kk)) > constraints)
        raise ValueError(
            f"k={k} is too small for the weighted Kozachenko-Leonenko estimator in d={d} dimensions: "
            f"{constraints} bias constraints need k >= {need}"
        )
    j = torch.tensor(support, dtype=torch.float64)
    rows = [torch.ones_like(j)]
    for ell in range(1, constraints + 1):
        rows.append(torch.exp(torch.lgamma(j + 2.0 * ell / d) - torch.lgamma(j)))
    a = torch.stack(rows)  # (constraints + 1, |support|)
    b = torch.zeros(len(rows), dtype=torch.float64)
    b[0] = 1.0
    w_support = torch.linalg.pinv(a) @ b  # the least-norm solution of A w = b
    if not torch.allclose(a @ w_support, b, atol=1e-8):
        raise ValueError(f"the weighted Kozachenko-Leonenko constraints have no solution for d={d}, k={k}")
    w = [0.0] * k
    for jj, wj in zip(support, w_support.tolist(), strict=True):
        w[jj - 1] = wj
    return tuple(w)


EMPTY_TOL = 1e-10  # a principal direction with variance <= this x the largest is empty (drop_empty)


def whiten(a: torch.Tensor, ridge: float = 1e-10, drop_empty: bool = False) -> tuple[torch.Tensor, float]:
    """(n, d) -> (centred data times the inverse square root of its covariance, log|det cov|^(1/2)).

    ``ridge`` x mean variance is added to the covariance so that a singular one still inverts (a
    representation with a constant unit); its log-determinant then says how little volume it has.
    drop_empty: instead, leave out the principal directions whose variance is at most ``EMPTY_TOL``
    x the largest (constant units, duplicated or dependent columns): the result has one column per
    direction kept, each of unit variance, and the log-determinant is that of the kept directions.
    Whitening an empty direction would blow its rounding noise up to unit variance, an invented
    dimension that wrecks every neighbour distance; leaving it out keeps I(X;Y) exactly when its
    variance is zero (see :mod:`.compression` for what is lost below the tolerance)."""
    a = a.to(torch.float64)
    a = a - a.mean(dim=0, keepdim=True)
    cov = a.T @ a / a.shape[0]
    if drop_empty:
        vals, vecs = torch.linalg.eigh(cov)
        top = float(vals.max()) if vals.numel() else 0.0
        keep = vals > EMPTY_TOL * top if top > 0 else torch.zeros_like(vals, dtype=torch.bool)
        return a @ (vecs[:, keep] * vals[keep].rsqrt()), 0.5 * float(torch.log(vals[keep]).sum())
    eye = torch.eye(a.shape[1], dtype=a.dtype, device=a.device)
    cov = cov + ridge * max(float(cov.diagonal().mean()), 1e-300) * eye
    vals, vecs = torch.linalg.eigh(cov)
    inv_sqrt = vecs @ torch.diag(vals.rsqrt()) @ vecs.T
    return a @ inv_sqrt, 0.5 * float(torch.log(vals).sum())


def wkl_entropy_nats(a: torch.Tensor, k: int = 5, chunk_size: int | None = None) -> float:
    """Weighted Kozachenko-Leonenko entropy of prepared (n, d) points, in nats (euclidean distances)."""
    n, d = a.shape
    k = check_positive_int(k, "k")
    check_min_samples(n, k + 1, f"the weighted Kozachenko-Leonenko estimator with k={k}")
    w = torch.tensor(wkl_weights(d, k), dtype=torch.float64, device=a.device)
    space = _Space(a, "euclidean")
    log_r = torch.zeros(k, dtype=torch.float64, device=a.device)  # sum over points of log rho_(j)
    for rows in row_chunks(n, n, chunk_size, device=a.device):
        dist = _exclude_self(space.block(rows), rows)
        r2 = torch.topk(dist, k, dim=1, largest=False, sorted=True).values.to(torch.float64)
        if bool((r2[:, -1] <= 0).any()):
            raise ValueError("the data have duplicate points (a neighbour at distance 0); pass noise > 0")
        # a zero distance to a nearer neighbour with zero weight is harmless: clamp before the log
        log_r += 0.5 * torch.log(r2.clamp_min(torch.finfo(torch.float64).tiny)).sum(dim=0)
    j = torch.arange(1, k + 1, dtype=torch.float64, device=a.device)
    log_vd = 0.5 * d * math.log(math.pi) - math.lgamma(0.5 * d + 1.0)
    h_j = math.log(n - 1) + log_vd + d * log_r / n - torch.special.digamma(j)
    return float((w * h_j).sum())


def _entropy(a: torch.Tensor, k: int, whitened: bool, chunk_size) -> float:
    """Entropy in nats; whitening, when asked, happens here and its log-determinant is added back."""
    if not whitened:
        return wkl_entropy_nats(a.to(torch.float64), k, chunk_size)
    aw, logdet = whiten(a)
    return wkl_entropy_nats(aw, k, chunk_size) + logdet


def wkl_entropy_bits(x, k: int = 5, whitened: bool = True, noise: float = 0.0, seed: int = 0, chunk_size=None) -> float:
    """Weighted Kozachenko-Leonenko estimate of the differential entropy h(X) in bits; x: (n, d) floats."""
    from .base import as_tensor

    xt = as_tensor(x, "x", x.device if isinstance(x, torch.Tensor) else torch.device("cpu"))
    xt = jitter(xt, noise, cpu_generator(seed))
    return _entropy(xt, k, whitened, chunk_size) * NATS_TO_BITS


@register("wkl", ci="subsample", labels_ok=True)
@centre_on_subsample_mean
def wkl_mi_bits(
    x: torch.Tensor,
    y: torch.Tensor,
    k: int = 5,
    whitened: bool = True,
    noise: float = 0.0,
    seed: int = 0,
    chunk_size: int | None = None,
) -> float:
    """I(X;Y) in bits from weighted Kozachenko-Leonenko entropies (Berrett, Samworth & Yuan 2019).

    x: (n, dx) floats; y: (n, dy) floats, I = H(X) + H(Y) - H(X,Y); or (n,) integer labels,
    I = H(X) - sum_c p(c) H(X | c) (classes with k or fewer points are left out of the sum and
    their weight with them; at least one class must have more). k: neighbours (default 5, as
    Butakov et al. 2024); whitened: estimate on whitened data (each side by its own covariance,
    leaving out its empty principal directions, :func:`whiten` with ``drop_empty``; a side with
    none left is constant and gives 0); noise: x column std x N(0, 1) added first (seeded), for
    data with ties.
    """
    g = cpu_generator(seed)
    x = jitter(x.to(torch.float64), noise, g)
    if whitened:
        x, _ = whiten(x, drop_empty=True)  # MI does not change under an invertible linear map of x
    if x.shape[1] == 0:
        return 0.0  # x is constant: it shares no information
    h_x = wkl_entropy_nats(x, k, chunk_size)
    if is_labels(y):
        _, inv, counts = torch.unique(y, return_inverse=True, return_counts=True)
        h_cond, mass = 0.0, 0
        for c in range(len(counts)):
            n_c = int(counts[c])
            if n_c > k:
                h_cond += n_c * wkl_entropy_nats(x[inv == c], k, chunk_size)
                mass += n_c
        if mass == 0:
            raise ValueError(f"every class has k={k} or fewer points; the conditional entropies need more")
        return (h_x - h_cond / mass) * NATS_TO_BITS
    y = jitter(y.to(torch.float64), noise, g)
    if whitened:
        y, _ = whiten(y, drop_empty=True)
    if y.shape[1] == 0:
        return 0.0
    h_y = wkl_entropy_nats(y, k, chunk_size)
    h_xy = wkl_entropy_nats(torch.cat([x, y], dim=1), k, chunk_size)
    return (h_x + h_y - h_xy) * NATS_TO_BITS
