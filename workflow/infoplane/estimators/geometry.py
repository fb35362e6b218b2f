"""The geometry of a sample: degenerate columns, numerical rank and intrinsic dimension.

Layers and images are many coordinates that lie near a manifold of few dimensions. Estimators
that model the data as full-dimensional (the Gaussian and t copulas invert a correlation matrix)
break there, while neighbour counts (KSG) see only the manifold's own dimension. These functions
say which case a sample is in, cheaply, before an estimator is chosen.

- :func:`degenerate_columns`: constant columns (dead units) and exact copies of another column.
  Dropping them is an injective map of the rows, so it keeps I(X;Y).
- :func:`numerical_rank`: the number of eigenvalues of the correlation matrix above ``tol`` times
  the largest: fewer than the columns means the data lie in a linear subspace.
- :func:`intrinsic_dimension`: TwoNN (Facco, d'Errico, Rodriguez & Laio 2017, "Estimating the
  intrinsic dimension of datasets by a minimal neighborhood information", Sci. Rep. 7): for a
  locally uniform density on a d-manifold the ratio mu = r2 / r1 of the distances to the second and
  first neighbour is Pareto with index d, whatever the density's scale, so d = (N - 1) / sum log mu
  (maximum likelihood with the bias-corrected numerator). Or the Levina & Bickel (2005) maximum
  likelihood estimate from ``k`` neighbours, averaged over points as MacKay & Ghahramani (2005)
  advise. Both use Euclidean distances and underestimate in many dimensions (at d = 50 and
  n = 5000, TwoNN gives about 30): read them as "few" or "many", not as exact counts.
"""

from __future__ import annotations

import functools

import torch

from .base import check_choice, check_positive_int, cpu_generator, row_chunks

ID_METHODS = ("twonn", "mle")
ID_MAX_ROWS = 2000  # the intrinsic dimension is estimated on at most this many rows (a seeded subset)


def degenerate_columns(a: torch.Tensor) -> dict[str, list[int]]:
    """Indices of the constant columns and of the columns that copy an earlier one exactly. a: (n, d)."""
    constant = [int(j) for j in torch.nonzero((a == a[:1]).all(dim=0)).flatten()]
    seen: dict[bytes, int] = {}
    copies = []
    for j in range(a.shape[1]):
        if j in constant:
            continue
        key = a[:, j].contiguous().cpu().numpy().tobytes()
        if key in seen:
            copies.append(j)
        else:
            seen[key] = j
    return {"constant": constant, "duplicate": copies}


def drop_degenerate_columns(a: torch.Tensor) -> tuple[torch.Tensor, dict[str, int]]:
    """(a without its constant and duplicated columns, counts of each). Keeps at least one column."""
    bad = degenerate_columns(a)
    drop = set(bad["constant"]) | set(bad["duplicate"])
    keep = [j for j in range(a.shape[1]) if j not in drop] or [0]
    return a[:, keep], {"constant_columns": len(bad["constant"]), "duplicate_columns": len(bad["duplicate"])}


def numerical_rank(a: torch.Tensor, tol: float = 1e-8) -> int:
    """The rank of the correlation matrix of a's columns: the number of pivots of its pivoted Cholesky
    factorisation (LAPACK dpstrf) above ``tol`` (the diagonal is 1).

    Not from an eigendecomposition: LAPACK's symmetric eigensolvers took 3-13 s on a 500 x 500
    correlation of rank 138 (5000 tanh-embedded rows), the pivoted Cholesky a millisecond.
    """
    from scipy.linalg import lapack

    a = a.to(torch.float64)
    a = a - a.mean(dim=0)
    sd = a.std(dim=0)
    a = a[:, sd > 0] / sd[sd > 0]
    if a.shape[1] == 0:
        return 0
    corr = (a.T @ a / (a.shape[0] - 1)).cpu().numpy()
    _, _, rank, info = lapack.dpstrf(corr, tol=tol)
    if info < 0:
        raise ValueError(f"numerical_rank: LAPACK dpstrf rejected argument {-info}")
    return int(rank)


def smallest_eigenvalue_below(m: torch.Tensor, level: float) -> bool:
    """Whether the symmetric positive semi-definite ``m`` has an eigenvalue below ``level``: the Cholesky
    factorisation of m - level I fails exactly then (a millisecond, where an eigensolver took seconds)."""
    shifted = m.to(torch.float64) - level * torch.eye(m.shape[0], dtype=torch.float64, device=m.device)
    return int(torch.linalg.cholesky_ex(shifted).info) != 0


def _neighbour_distances(a: torch.Tensor, k: int) -> torch.Tensor:
    """(n, k) Euclidean distances of every row to its k nearest other rows, ascending.

    Candidates come from the Gram form |a|^2 + |b|^2 - 2 a.b (one matrix product per block); their
    distances are then recomputed from the differences, since the Gram form cancels to 0 for close
    points (TwoNN divides by the nearest distance).
    """
    a = a.to(torch.float64)
    sq = (a * a).sum(dim=1)
    extra = min(k + 4, a.shape[0] - 1)
    out = []
    for rows in row_chunks(a.shape[0], a.shape[0], device=a.device):
        d2 = (sq[rows, None] + sq[None, :] - 2.0 * a[rows] @ a.T).clamp_(min=0.0)
        d2[torch.arange(rows.stop - rows.start), torch.arange(rows.start, rows.stop)] = float("inf")
        idx = torch.topk(d2, extra, dim=1, largest=False).indices
        exact = (a[idx] - a[rows, None, :]).norm(dim=2)
        out.append(exact.sort(dim=1).values[:, :k])
    return torch.cat(out)


def intrinsic_dimension(a: torch.Tensor, method: str = "twonn", k: int = 10, seed: int = 0) -> float:
    """Intrinsic dimension of the rows of a: (n, d), by ``twonn`` or the Levina-Bickel ``mle`` with k neighbours.

    Repeated rows count once. Columns are standardised first
    (unit variance; constant columns dropped), so that no unit dominates the distances. Computed on at
    most ``ID_MAX_ROWS`` rows (a seeded subset).
    """
    check_choice(method, "method", ID_METHODS)
    k = check_positive_int(k, "k", minimum=2)
    a = a.to(torch.float64)
    sd = a.std(dim=0)
    a = (a[:, sd > 0] - a[:, sd > 0].mean(dim=0)) / sd[sd > 0]
    if a.shape[1] == 0:
        return 0.0
    if a.shape[0] > ID_MAX_ROWS:
        idx = torch.randperm(a.shape[0], generator=cpu_generator(seed))[:ID_MAX_ROWS].sort().values
        a = a[idx.to(a.device)]
    a = torch.unique(a, dim=0)  # a repeated row is one point of the manifold (its copies would be its neighbours)
    need = 2 if method == "twonn" else k
    if a.shape[0] <= need + 1:
        raise ValueError(f"the intrinsic dimension ({method}) needs more than {need + 1} rows, got {a.shape[0]}")
    r = _neighbour_distances(a, need)
    r = r[r[:, 0] > 0]  # rows equal to rounding: the distinct rows are what matters
    if r.shape[0] < 3:
        return 0.0
    if method == "twonn":
        logs = torch.log(r[:, 1] / r[:, 0])
        total = float(logs.sum())
        return (r.shape[0] - 1) / total if total > 0 else float("inf")
    # Levina-Bickel: m(x) = [(1/(k-2)) sum_{j<k} log(T_k / T_j)]^-1 (the unbiased form), averaged as 1/mean(1/m).
    logs = torch.log(r[:, -1:] / r[:, :-1]).sum(dim=1) / (k - 2)
    return 1.0 / float(logs.mean()) if float(logs.mean()) > 0 else float("inf")


@functools.lru_cache(maxsize=64)
def full_dimensional_reference(n: int, d: int, method: str = "twonn") -> float:
    """What :func:`intrinsic_dimension` gives for n rows of a d-dimensional standard normal (seed 0).

    The estimators fall short of d in many dimensions (about 33 at d = 50, n = 5000), so "near a
    manifold" is judged against this, not against d.
    """
    if d < 1:
        return 0.0
    n = min(int(n), ID_MAX_ROWS)
    g = cpu_generator(0)
    return intrinsic_dimension(torch.randn(n, int(d), generator=g, dtype=torch.float64), method)


def describe_geometry(a: torch.Tensor, seed: int = 0) -> dict[str, float | int]:
    """Columns, degenerate columns, numerical rank and TwoNN intrinsic dimension of a: (n, d)."""
    reduced, counts = drop_degenerate_columns(a)
    return {
        "columns": int(a.shape[1]),
        **counts,
        "numerical_rank": numerical_rank(reduced),
        "intrinsic_dim": intrinsic_dimension(reduced, "twonn", seed=seed),
    }


__all__ = [
    "ID_METHODS",
    "degenerate_columns",
    "describe_geometry",
    "drop_degenerate_columns",
    "full_dimensional_reference",
    "intrinsic_dimension",
    "numerical_rank",
    "smallest_eigenvalue_below",
]
