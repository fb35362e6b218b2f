"""k-nearest-neighbour estimators: KSG mutual information, Kozachenko-Leonenko entropy, and the
mixed continuous/discrete estimator of Ross for class labels.

References
----------
- A. Kraskov, H. Stoegbauer, P. Grassberger (2004). Estimating mutual information.
  Phys. Rev. E 69, 066138. Algorithms 1 and 2 ("KSG"), joint space under the max-norm.
- L. F. Kozachenko, N. N. Leonenko (1987). Sample estimate of the entropy of a random vector.
  Problems Inform. Transmission 23, 95-101.
- B. C. Ross (2014). Mutual information between discrete and continuous data sets.
  PLoS ONE 9(2), e87357.

Everything is brute force in torch: the rows are processed in blocks (``base.row_chunks``) and
each block's distances to all n points are computed, reduced (top-k, counts) and dropped, so
memory is O(block x n) and not O(n^2). The joint space is always the max-norm of the marginal
distances, max(||x_i - x_j||, ||y_i - y_j||), as in KSG; ``metric`` picks the marginal norm:
``"chebyshev"`` (max over coordinates, the original KSG and scikit-learn) or ``"euclidean"``.
Euclidean distances of more than ``DIRECT_DIMS`` coordinates come from one matrix product per
block, which is several times faster than the coordinate loop that the max-norm needs.

On CPU, KSG with max-norm marginals of 16 or more coordinates in all takes a faster path
(:mod:`.maxnorm_screen`): int16 distances over half the pairs screen every comparison, and the
few pairs that quantisation leaves undecided are decided with the float distances, so the counts
are exactly those of the blockwise path. Discrete data, and an explicit ``chunk_size``, keep the
blockwise path.
"""

from __future__ import annotations

import math

import torch

from . import maxnorm_screen
from .base import (
    NATS_TO_BITS,
    check_choice,
    check_min_samples,
    check_positive_int,
    cpu_generator,
    is_labels,
    register,
    row_chunks,
)
from .intervals import centre_on_subsample_mean
from .prepare import jitter, standardize_columns

METRICS = ("chebyshev", "euclidean")
PRECISIONS = {"float32": torch.float32, "float64": torch.float64}
# Below this many coordinates, euclidean distances are summed coordinate by coordinate: the
# matrix-product form |a|^2 + |b|^2 - 2ab cancels badly for near neighbours in few dimensions.
DIRECT_DIMS = 4


def _prepare(a: torch.Tensor, standardize: bool, noise: float, generator, precision: str) -> torch.Tensor:
    """Centre (and optionally scale) columns in float64, jitter, then cast to the working precision.

    The scaling is the shared step of :mod:`.prepare` (``marginals: standardize``); ``standardize``
    stays a KSG parameter because KSG's default result depends on it (scale-free max-norm balls).
    """
    dtype = PRECISIONS[check_choice(precision, "precision", PRECISIONS)]
    a = a.to(torch.float64)
    a = standardize_columns(a) if standardize else a - a.mean(dim=0, keepdim=True)
    return jitter(a, noise, generator).to(dtype)


class _Space:
    """One marginal space (n, d) and the blockwise distance function of ``metric``.

    Distances are returned as a monotone function of the true distance (the squared distance
    for euclidean), which is all that neighbour ranks and counts need; :meth:`radius` undoes it.
    """

    def __init__(self, a: torch.Tensor, metric: str):
        self.a = a
        self.metric = check_choice(metric, "metric", METRICS)
        self.direct = metric == "chebyshev" or a.shape[1] <= DIRECT_DIMS
        if self.direct:
            # Coordinates as rows (d, n): the loop in :meth:`block` reads one contiguous row each.
            self.coords = a.T.contiguous()
        else:
            # One product gives the squared distance: [a, |a|^2, 1] . [-2b, 1, |b|^2].
            sq = (a * a).sum(dim=1, keepdim=True)
            one = torch.ones_like(sq)
            self.left = torch.cat([a, sq, one], dim=1)
            self.right = torch.cat([-2.0 * a, one, sq], dim=1).T.contiguous()

    def block(self, rows: slice, out: torch.Tensor | None = None, buf: torch.Tensor | None = None) -> torch.Tensor:
        """(rows, n) distances from the points in ``rows`` to every point, written into ``out``.

        ``out`` and ``buf`` are optional (rows, n) work tensors, reused across blocks.
        """
        n_rows, n = rows.stop - rows.start, self.a.shape[0]
        if out is None:
            out = torch.empty((n_rows, n), dtype=self.a.dtype, device=self.a.device)
        if not self.direct:
            return torch.matmul(self.left[rows], self.right, out=out)
        if buf is None:
            buf = torch.empty_like(out)
        # One coordinate at a time over the whole block: each step is a few large elementwise ops
        # (vectorised, multi-threaded, on any device) on a (rows, n) block that stays in cache and
        # is written into reused buffers; no (rows, n, d) tensor is made. cdist(p=inf) loops over
        # pairs instead, and is no faster on CPU at 25 dimensions and slower on 2 threads.
        c = self.coords
        if self.metric == "chebyshev":
            torch.sub(c[0, rows, None], c[0], out=out).abs_()
            for j in range(1, c.shape[0]):
                torch.maximum(out, torch.sub(c[j, rows, None], c[j], out=buf).abs_(), out=out)
        else:
            torch.sub(c[0, rows, None], c[0], out=out).square_()
            for j in range(1, c.shape[0]):
                diff = torch.sub(c[j, rows, None], c[j], out=buf)
                out.addcmul_(diff, diff)
        return out

    def radius(self, d: torch.Tensor) -> torch.Tensor:
        return d if self.metric == "chebyshev" else d.sqrt()

    def log_unit_ball_volume(self) -> float:
        d = self.a.shape[1]
        if self.metric == "chebyshev":
            return d * math.log(2.0)
        return 0.5 * d * math.log(math.pi) - math.lgamma(0.5 * d + 1.0)


def _exclude_self(block: torch.Tensor, rows: slice) -> torch.Tensor:
    """Set the distance of every point in ``rows`` to itself to +inf (in place)."""
    block[:, rows].diagonal().fill_(float("inf"))
    return block


def _count(d: torch.Tensor, radius: torch.Tensor, tmp: torch.Tensor, strict: bool) -> torch.Tensor:
    """Per row, the number of entries of ``d`` below (``strict``) or at most ``radius``, as float64.

    The comparison is written as 0/1 into the float work tensor ``tmp`` (same shape as ``d``) and
    summed in float64: several times faster on CPU than a bool mask and an integer sum, and exact.
    """
    (torch.lt if strict else torch.le)(d, radius, out=tmp)
    return tmp.sum(dim=1, dtype=torch.float64)


def _psi(v: float) -> float:
    return float(torch.special.digamma(torch.tensor(float(v), dtype=torch.float64)))


def _check_k(n: int, k: int, what: str) -> int:
    k = check_positive_int(k, "k")
    check_min_samples(n, k + 1, f"{what} with k={k}")
    return k


def ksg_counts(
    x: torch.Tensor,
    y: torch.Tensor,
    k: int = 3,
    algorithm: int = 1,
    metric: str = "chebyshev",
    chunk_size: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """KSG's marginal counts (n_x, n_y), (n,) int64 each, from prepared x (n, dx) and y (n, dy).

    Algorithm 1: the other points strictly closer in x (in y) than the k-th joint neighbour.
    Algorithm 2: the other points within the largest x (y) distance among the k joint neighbours.
    With max-norm marginals on CPU this is the int16-screened path (:mod:`.maxnorm_screen`),
    which gives exactly the counts of the blockwise float loop, ties included.
    """
    n = x.shape[0]
    k = _check_k(n, k, "KSG")
    if algorithm not in (1, 2):
        raise ValueError(f"algorithm must be 1 or 2, got {algorithm!r}")
    if metric == "chebyshev" and chunk_size is None and maxnorm_screen.applies(x, y):
        try:
            return maxnorm_screen.ksg_counts(x, y, k, algorithm)
        except maxnorm_screen.TooManyTies:
            pass  # discrete data: the blockwise loop below is faster
    sx, sy = _Space(x, metric), _Space(y, metric)
    chunks = list(row_chunks(n, n, chunk_size, device=x.device))
    # Work tensors, reused by every block: the x and y distances, and one scratch block.
    dx_buf, dy_buf, tmp_buf = (torch.empty((chunks[0].stop, n), dtype=x.dtype, device=x.device) for _ in range(3))
    n_x, n_y = [], []
    for rows in chunks:
        r = rows.stop - rows.start
        dx, dy, tmp = dx_buf[:r], dy_buf[:r], tmp_buf[:r]
        _exclude_self(sx.block(rows, dx, tmp), rows)
        _exclude_self(sy.block(rows, dy, tmp), rows)
        joint = torch.maximum(dx, dy, out=tmp)
        eps, idx = torch.topk(joint, k, dim=1, largest=False, sorted=True)
        if algorithm == 1:
            rx = ry = eps[:, -1:]
        else:
            rx = dx.gather(1, idx).amax(dim=1, keepdim=True)
            ry = dy.gather(1, idx).amax(dim=1, keepdim=True)
        n_x.append(_count(dx, rx, tmp, strict=algorithm == 1))
        n_y.append(_count(dy, ry, tmp, strict=algorithm == 1))
    return torch.cat(n_x).to(torch.int64), torch.cat(n_y).to(torch.int64)


def ksg_nats_from_counts(n_x: torch.Tensor, n_y: torch.Tensor, k: int, algorithm: int = 1) -> float:
    """KSG's I(X;Y) in nats from the counts of :func:`ksg_counts` (one formula for every path).

    Algorithm 1: I = psi(k) + psi(n) - < psi(n_x + 1) + psi(n_y + 1) >. Algorithm 2:
    I = psi(k) - 1/k + psi(n) - < psi(n_x) + psi(n_y) > (Kraskov et al. 2004, eqs. 8 and 9).
    """
    n = n_x.shape[0]
    counts = torch.cat([n_x, n_y]).to(torch.float64) + (1.0 if algorithm == 1 else 0.0)
    mi = _psi(k) + _psi(n) - float(torch.special.digamma(counts).sum()) / n
    return mi - 1.0 / k if algorithm == 2 else mi


def ksg_nats(
    x: torch.Tensor,
    y: torch.Tensor,
    k: int = 3,
    algorithm: int = 1,
    metric: str = "chebyshev",
    chunk_size: int | None = None,
) -> float:
    """KSG estimate of I(X;Y) in nats from prepared x (n, dx) and y (n, dy), no preprocessing.

    Algorithm 1: I = psi(k) + psi(n) - < psi(n_x + 1) + psi(n_y + 1) >, with n_x the number of
    other points strictly closer in x than the k-th joint neighbour. Algorithm 2:
    I = psi(k) - 1/k + psi(n) - < psi(n_x) + psi(n_y) >, with n_x counting points within the
    largest x-distance among the k joint neighbours (Kraskov et al. 2004, eqs. 8 and 9).
    """
    n_x, n_y = ksg_counts(x, y, k=k, algorithm=algorithm, metric=metric, chunk_size=chunk_size)
    return ksg_nats_from_counts(n_x, n_y, k, algorithm)


@register("ksg", ci="subsample", labels_ok=True)
@centre_on_subsample_mean
def ksg_mi_bits(
    x: torch.Tensor,
    y: torch.Tensor,
    k: int = 3,
    algorithm: int = 1,
    metric: str = "chebyshev",
    standardize: bool = True,
    noise: float = 0.0,
    precision: str = "float32",
    seed: int = 0,
    chunk_size: int | None = None,
) -> float:
    """KSG estimate of I(X;Y) in bits (Kraskov, Stoegbauer & Grassberger 2004).

    x: (n, dx) floats; y: (n, dy) floats, or (n,) integer labels, in which case the mixed
    estimator of Ross (2014) is used (:func:`mixed_ksg_mi_bits`; ``algorithm`` is ignored).
    k: neighbours; algorithm: 1 or 2; metric: the marginal norm (``chebyshev`` or
    ``euclidean``), the joint norm is always their maximum. standardize: scale every column to
    unit standard deviation first (as scikit-learn does). noise: add noise x column std x N(0,1)
    (seeded by ``seed``) to break ties between duplicate points. precision: ``float32`` (fast;
    data are centred in float64 first) or ``float64``.
    """
    if is_labels(y):
        return mixed_ksg_mi_bits(
            x,
            y,
            k=k,
            metric=metric,
            standardize=standardize,
            noise=noise,
            precision=precision,
            seed=seed,
            chunk_size=chunk_size,
        )
    g = cpu_generator(seed)
    xp = _prepare(x, standardize, noise, g, precision)
    yp = _prepare(y, standardize, noise, g, precision)
    return ksg_nats(xp, yp, k=k, algorithm=algorithm, metric=metric, chunk_size=chunk_size) * NATS_TO_BITS


def mixed_nats(
    x: torch.Tensor,
    labels: torch.Tensor,
    k: int = 3,
    metric: str = "chebyshev",
    chunk_size: int | None = None,
) -> float:
    """Ross (2014) estimate of I(X;Y) in nats for prepared x (n, d) and integer labels (n,).

    For point i of class c (n_c points), r_i is the distance to its k_c-th nearest neighbour of
    the same class (k_c = min(k, n_c - 1)) and m_i counts the points of any class closer than
    r_i, itself included. I = psi(n) + <psi(k_c)> - <psi(n_c)> - <psi(m_i)>. Points of classes
    seen once are dropped, as in Ross (2014) and scikit-learn's ``mutual_info_classif``.
    """
    _, inv, counts = torch.unique(labels, return_inverse=True, return_counts=True)
    keep = counts[inv] > 1
    x, inv = x[keep], inv[keep]
    n = x.shape[0]
    check_min_samples(n, 2, "the mixed kNN estimator (after dropping classes seen once)")
    k = check_positive_int(k, "k")
    n_c = torch.bincount(inv)[inv]  # (n,) size of each point's class
    k_c = torch.clamp(n_c - 1, max=k)
    space = _Space(x, metric)
    m_digamma = torch.zeros((), dtype=torch.float64, device=x.device)
    kmax = int(k_c.max())
    for rows in row_chunks(n, n, chunk_size, device=x.device):
        d = _exclude_self(space.block(rows), rows)
        same = inv[rows, None] == inv[None, :]
        d_same = torch.where(same, d, torch.full_like(d, float("inf")))
        nearest = torch.topk(d_same, kmax, dim=1, largest=False, sorted=True).values
        r = nearest.gather(1, (k_c[rows] - 1)[:, None])
        m = _count(d, r, d_same, strict=True) + 1.0
        m_digamma += torch.special.digamma(m).sum()
    dg = torch.special.digamma
    mi = (
        _psi(n)
        + float(dg(k_c.to(torch.float64)).mean())
        - float(dg(n_c.to(torch.float64)).mean())
        - float(m_digamma) / n
    )
    return mi


@register("mixed_ksg", ci="subsample", labels_ok=True)
@centre_on_subsample_mean
def mixed_ksg_mi_bits(
    x: torch.Tensor,
    y: torch.Tensor,
    k: int = 3,
    metric: str = "chebyshev",
    standardize: bool = True,
    noise: float = 0.0,
    precision: str = "float32",
    seed: int = 0,
    chunk_size: int | None = None,
) -> float:
    """Ross (2014) kNN estimate of I(X;Y) in bits between continuous x (n, d) and labels y (n,).

    Parameters as for :func:`ksg_mi_bits`. Reference: B. C. Ross, PLoS ONE 9(2), e87357 (2014).
    """
    if not is_labels(y):
        raise ValueError("y must be an (n,) integer label vector for the mixed kNN estimator")
    g = cpu_generator(seed)
    xp = _prepare(x, standardize, noise, g, precision)
    return mixed_nats(xp, y, k=k, metric=metric, chunk_size=chunk_size) * NATS_TO_BITS


def kl_entropy_bits(
    x,
    k: int = 3,
    metric: str = "euclidean",
    noise: float = 0.0,
    precision: str = "float64",
    seed: int = 0,
    chunk_size: int | None = None,
) -> float:
    """Kozachenko-Leonenko estimate of the differential entropy h(X), in bits.

    x: (n, d) floats (numpy or torch), not rescaled (entropy is not scale invariant).
    h = psi(n) - psi(k) + log V_d + d < log r_i >, with r_i the distance to the k-th neighbour
    and V_d the volume of the unit ball of ``metric`` (Kozachenko & Leonenko 1987; Kraskov et
    al. 2004, eq. 20).
    """
    from .base import as_tensor

    xt = as_tensor(x, "x", x.device if isinstance(x, torch.Tensor) else torch.device("cpu"))
    n, d = xt.shape
    k = _check_k(n, k, "the Kozachenko-Leonenko estimator")
    xp = _prepare(xt, False, noise, cpu_generator(seed), precision)
    space = _Space(xp, metric)
    log_r = torch.zeros((), dtype=torch.float64, device=xp.device)
    for rows in row_chunks(n, n, chunk_size, device=xp.device):
        dist = _exclude_self(space.block(rows), rows)
        r = space.radius(torch.topk(dist, k, dim=1, largest=False, sorted=True).values[:, -1])
        if bool((r <= 0).any()):
            raise ValueError("x has duplicate points (a k-th neighbour at distance 0); pass noise > 0")
        log_r += torch.log(r.to(torch.float64)).sum()
    h = _psi(n) - _psi(k) + space.log_unit_ball_volume() + d * float(log_r) / n
    return h * NATS_TO_BITS
