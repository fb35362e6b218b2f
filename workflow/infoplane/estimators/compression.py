"""Compression before estimation: project each variable on its leading principal components, then
estimate MI in the small space with a kNN estimator.

Butakov, Tolmachev, Malanchuk, Neopryatnaya, Frolov & Andreev (2024), "Information bottleneck
analysis of deep neural networks via lossy compression", ICLR: kNN estimators fail in hundreds of
dimensions, but activations and inputs lie near low-dimensional manifolds, so compress first (the
paper uses autoencoders; PCA is the linear case). By data processing, I(PX; PY) <= I(X;Y): the
estimate targets the MI of the compressed variables, which equals I(X;Y) when the dependence lives
in the kept components.

How many components (:func:`choose_components`), per side:

1. Empty directions are dropped, always: a principal direction whose variance is at most
   ``EMPTY_TOL`` (1e-10) times the largest (constant units, duplicated or linearly dependent
   columns) is never kept, so never whitened (whitening would blow its rounding noise up to unit
   variance). At exactly zero variance the direction is a constant and dropping it keeps I(X;Y)
   exactly. Below the tolerance but not zero, whatever the direction holds is lost; at 1e-10 of the
   largest variance its standard deviation is 1e-5 of the largest, and for float32 inputs rounding
   alone gives about 1e-14, so what is lost is at most a direction that float32 data barely
   resolve. Nothing left (a constant side): I = 0 exactly, and that is returned.
2. ``components=None`` (the default): when the side has at most ``max_components`` non-empty
   directions, all are kept (no compression is needed; in few dimensions kNN works). Otherwise
   the fewest leading directions that hold ``variance_fraction`` (0.9) of the variance, but at
   least the TwoNN intrinsic dimension m (:func:`.geometry.intrinsic_dimension`) of the leading
   ``max_components`` directions rounded up, ceil(m - 0.2) (fewer components than the data's own
   dimension fold the manifold and lose MI; TwoNN runs on at most ``ID_ROWS`` = 2000 rows, where
   its scatter is about d / sqrt(2000), 0.05 at d = 2), and at most ``max_components``.
3. An explicit ``components`` is the most kept (fewer when fewer directions are non-empty).
4. ``pca_wkl`` only: the kept directions must be filled. The weighted Kozachenko-Leonenko entropy
   of data that lie on an m-dimensional manifold inside c > m coordinates is wrong without bound:
   neighbour distances shrink like n^(-1/m) while the estimator takes them to the power c
   (measured: a 2-d source in 100 tanh units, 1 bit: 1.01 bits at 2 components, -0.17 at 3, -6.3
   at 4, -25 at 8; unwhitened, -6.1 at 4: whitening is not the cause). So while the TwoNN
   dimension m of the kept components is below c - max(0.5, 0.1 c), c becomes
   max(1, min(c - 1, round(m))) (not checked below ``FILL_MIN_N`` rows). KSG needs no such
   check: its marginal and joint counts come from one set of distances, and extra components (up
   to 8) moved it by 6% at most on the same tasks.

The choice is made on each sample the estimator sees, so each subsample of the interval
(:mod:`.intervals`) makes its own: where the choice is on a knife edge, the subsamples vary it and
the interval widens. Known limits: a curved manifold that no linear projection of its dimension
unfolds (a circle in 2 units: TwoNN says 1, the projection on 1 component folds it) is estimated
low by ``pca_wkl`` (1.05 bits of 3 on the circle task), as data processing allows; ``pca_ksg``
keeps the 2 components there and is right.
"""

from __future__ import annotations

import math

import torch

from .base import check_positive_int, is_labels, register
from .intervals import centre_on_subsample_mean
from .knn import ksg_mi_bits
from .wkl import EMPTY_TOL  # a principal direction with variance <= this x the largest is empty (dropped)

VARIANCE_FRACTION = 0.9
FILL_MIN_N = 100  # below this many rows the intrinsic dimension is too noisy to judge the fill by
ID_ROWS = 2000  # TwoNN on at most this many rows: its scatter is about d / sqrt(rows), 0.09 at d = 4


def principal_components(a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(n, d) -> (scores on the non-empty principal directions (n, r), their variances (r,)), descending.

    Float64, from the (d, d) covariance (cheap for n >> d, deterministic). r = 0 for a constant input."""
    a = a.to(torch.float64)
    a = a - a.mean(dim=0, keepdim=True)
    cov = a.T @ a / a.shape[0]
    vals, vecs = torch.linalg.eigh(cov)
    vals, vecs = vals.flip(0), vecs.flip(1)
    top = float(vals[0]) if vals.numel() else 0.0
    keep = vals > EMPTY_TOL * top if top > 0 else torch.zeros_like(vals, dtype=torch.bool)
    return a @ vecs[:, keep], vals[keep]


def _id(scores: torch.Tensor, seed: int) -> float:
    """TwoNN dimension of the rows of scores, on at most ``ID_ROWS`` of them (a seeded subset)."""
    from .base import cpu_generator
    from .geometry import intrinsic_dimension

    if scores.shape[1] <= 1:
        return float(scores.shape[1])
    if scores.shape[0] > ID_ROWS:
        idx = torch.randperm(scores.shape[0], generator=cpu_generator(seed))[:ID_ROWS].sort().values
        scores = scores[idx.to(scores.device)]
    m = intrinsic_dimension(scores, "twonn", seed=seed)
    return m if math.isfinite(m) else float(scores.shape[1])


def choose_components(
    scores: torch.Tensor,
    variances: torch.Tensor,
    components: int | None,
    *,
    max_components: int,
    variance_fraction: float = VARIANCE_FRACTION,
    fill: bool = False,
    seed: int = 0,
) -> int:
    """How many of the leading non-empty principal directions to keep (module docstring, rules 2-4).

    scores: (n, r) from :func:`principal_components`, variances: (r,). Returns 0 when r = 0."""
    r = int(scores.shape[1])
    if r == 0:
        return 0
    n = int(scores.shape[0])
    if components is not None:
        c = min(check_positive_int(components, "components"), r)
    elif r <= max_components:
        c = r
    else:
        cum = variances.cumsum(0) / variances.sum()
        c = min(int((cum < variance_fraction).sum()) + 1, max_components)
        if n >= FILL_MIN_N:
            c = max(c, min(math.ceil(_id(scores[:, :max_components], seed) - 0.2), max_components))
    if fill and n >= FILL_MIN_N:
        while c > 1:
            m = _id(scores[:, :c], seed)
            if m >= c - max(0.5, 0.1 * c):
                break
            c = max(1, min(c - 1, round(m)))
    return c


def pca_project(a: torch.Tensor, components: int) -> torch.Tensor:
    """(n, d) -> (n, min(components, d)) scores on the leading principal components (float64), less any
    empty direction (module docstring, rule 1); centred but not rotated when every column is kept."""
    components = check_positive_int(components, "components")
    a = a.to(torch.float64)
    scores, _ = principal_components(a)
    if scores.shape[1] == a.shape[1] <= components:
        return a - a.mean(dim=0, keepdim=True)
    return scores[:, :components]


def _compress(a: torch.Tensor, components, max_components, variance_fraction, fill, seed) -> torch.Tensor:
    """One side's projection by the rules of the module docstring; (n, 0) for a constant side."""
    check_positive_int(max_components, "max_components")
    if not 0.0 < variance_fraction <= 1.0:
        raise ValueError(f"variance_fraction must lie in (0, 1], got {variance_fraction!r}")
    scores, variances = principal_components(a)
    c = choose_components(scores, variances, components, max_components=max_components,
                          variance_fraction=variance_fraction, fill=fill, seed=seed)  # fmt: skip
    if c == a.shape[1] == scores.shape[1]:  # nothing dropped: keep the coordinates (a rotation changes KSG)
        return a.to(torch.float64) - a.to(torch.float64).mean(dim=0, keepdim=True)
    return scores[:, :c]


def compressed_pair(
    x: torch.Tensor,
    y: torch.Tensor,
    components: int | None,
    components_y: int | None,
    max_components: int,
    variance_fraction: float,
    fill: bool,
    seed: int = 0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(x, y) compressed as :func:`pca_ksg_mi_bits` (fill=False) or :func:`pca_wkl_mi_bits` (fill=True) do.

    components_y None: ``components`` for y too (None: chosen from y's own data). Labels y are kept."""
    xp = _compress(x, components, max_components, variance_fraction, fill, seed)
    if is_labels(y):
        return xp, y
    cy = components if components_y is None else components_y
    return xp, _compress(y, cy, max_components, variance_fraction, fill, seed)


@register("pca_ksg", ci="subsample", labels_ok=True)
@centre_on_subsample_mean
def pca_ksg_mi_bits(
    x: torch.Tensor,
    y: torch.Tensor,
    components: int | None = None,
    components_y: int | None = None,
    max_components: int = 8,
    variance_fraction: float = VARIANCE_FRACTION,
    k: int = 3,
    algorithm: int = 1,
    metric: str = "chebyshev",
    standardize: bool = True,
    noise: float = 0.0,
    precision: str = "float32",
    seed: int = 0,
    chunk_size: int | None = None,
) -> float:
    """KSG on principal-component projections, in bits (Butakov et al. 2024, with PCA for the autoencoder).

    x: (n, dx) -> its leading principal components; y: (n, dy) likewise, or (n,) labels kept as they
    are (the Ross mixed estimator then). components / components_y (default: components): how many
    at most; None: chosen from the data, at most ``max_components`` (module docstring). Empty
    directions are always dropped; a constant side gives 0. The interval is centred on the mean of
    the subsample estimates, as KSG's (:mod:`.intervals`): it contains the estimate.
    Other parameters: :func:`infoplane.estimators.knn.ksg_mi_bits`.
    """
    xp, yp = compressed_pair(x, y, components, components_y, max_components, variance_fraction, False, seed)
    if xp.shape[1] == 0 or (not is_labels(yp) and yp.shape[1] == 0):
        return 0.0  # a constant side shares no information
    return ksg_mi_bits(xp, yp, k=k, algorithm=algorithm, metric=metric, standardize=standardize, noise=noise,
                       precision=precision, seed=seed, chunk_size=chunk_size)  # fmt: skip


@register("pca_wkl", ci="subsample", labels_ok=True)
@centre_on_subsample_mean
def pca_wkl_mi_bits(
    x: torch.Tensor,
    y: torch.Tensor,
    components: int | None = None,
    components_y: int | None = None,
    max_components: int = 4,
    variance_fraction: float = VARIANCE_FRACTION,
    k: int = 5,
    whitened: bool = True,
    only_filled: bool = True,
    noise: float = 0.0,
    seed: int = 0,
    chunk_size: int | None = None,
) -> float:
    """Weighted Kozachenko-Leonenko MI on principal-component projections, in bits (Butakov et al. 2024:
    every layer by PCA to 4 dimensions, then WKL with k = 5 on whitened data).

    x: (n, dx) -> its leading principal components; y: (n, dy) likewise, or (n,) labels kept as they
    are. components / components_y (default: components): how many at most; None: chosen from the
    data, at most ``max_components`` (4, the paper's). Either way only directions the data fill
    are kept (module docstring, rules 1 and 4): an explicit ``components: 4`` on a layer whose
    activations lie on a 2-d manifold keeps 2. A constant side gives 0. Other parameters:
    :func:`infoplane.estimators.wkl.wkl_mi_bits`. A preset may also name ``x_compressor`` (an
    autoencoder or PCA fitted once on the dataset's inputs, its own artifact): X is then replaced by
    its codes before this runs, and its PCA here keeps them as they are when they are few enough
    and fill their dimensions. The interval is centred on the mean of the subsample estimates
    (:mod:`.intervals`): it contains the estimate.
    """
    from .wkl import wkl_mi_bits

    fill = bool(only_filled)
    xp, yp = compressed_pair(x, y, components, components_y, max_components, variance_fraction, fill, seed)
    if xp.shape[1] == 0 or (not is_labels(yp) and yp.shape[1] == 0):
        return 0.0  # a constant side shares no information
    return wkl_mi_bits(xp, yp, k=k, whitened=whitened, noise=noise, seed=seed, chunk_size=chunk_size)
