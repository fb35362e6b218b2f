"""Is the dependence Gaussian? KSG against the Gaussian formula on the leading canonical pairs.

The Gaussian-copula estimate is exact when the normal scores of (X, Y) are jointly Gaussian. When
they are not, it still has a direction: for U and V each Gaussian, I(U;V) >= the Gaussian MI of
their covariance (h(U, V) is at most the Gaussian entropy of its covariance, and h(U), h(V) equal
theirs), so dependence a Gaussian cannot express (rotations that depend on the radius, as in the
spirals of Czyz et al. 2023) makes the Gaussian-copula estimate low, by an amount no interval of
its own shows.

The check: project the normal scores on their leading ``pairs`` canonical directions (CCA), where
most of the MI of a Gaussian copula lives, and compare KSG on those few coordinates (nearly
unbiased in 2+2 dimensions) with the Gaussian MI of the same coordinates. Under a Gaussian copula
the two agree up to KSG's small negative bias; a KSG value above the Gaussian one by more than
twice the sampling error of the difference (half-samples) is dependence the model misses, and at
least that much MI is missing from the Gaussian-copula estimate.

The same check for a fitted t copula (:func:`t_canonical_pair_excess`): a t copula with
correlation R and nu degrees of freedom is a multivariate t after the marginal map to t scores
(ranks -> the t quantile with nu), and any linear projection of a multivariate t is a t with the
same nu. So on the canonical pairs of R (the fit's own directions) the model's MI is
:func:`.tcopula.t_mi_nats` of the pairs' correlations in closed form, and KSG on the projected
pairs (on their own normal scores: I(u; v) is kept by coordinatewise monotone maps) estimates what
the data have there. KSG is biased low under heavy tails, so again only an excess counts against
the model: a radius-dependent rotation (a spiral) puts MI where no t copula can.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .base import NATS_TO_BITS, cpu_generator
from .knn import ksg_mi_bits


def _whiten(a: torch.Tensor) -> torch.Tensor:
    a = a - a.mean(dim=0)
    vals, vecs = torch.linalg.eigh(a.T @ a / a.shape[0])
    keep = vals > 1e-10 * vals.max()
    return a @ vecs[:, keep] / vals[keep].sqrt()


def canonical_pairs(x: torch.Tensor, y: torch.Tensor, pairs: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The leading ``pairs`` canonical variates of x: (n, dx) and y: (n, dy), and their correlations."""
    xw, yw = _whiten(x.to(torch.float64)), _whiten(y.to(torch.float64))
    u, s, vt = torch.linalg.svd(xw.T @ yw / x.shape[0], full_matrices=False)
    m = min(pairs, s.shape[0])
    return xw @ u[:, :m], yw @ vt[:m].T, s[:m].clamp(max=1 - 1e-12)


def _excess(x: torch.Tensor, y: torch.Tensor, pairs: int, k: int) -> tuple[float, float, float]:
    u, v, rho = canonical_pairs(x, y, pairs)
    gauss = float(-0.5 * torch.log1p(-rho * rho).sum()) * NATS_TO_BITS
    knn = ksg_mi_bits(u, v, k=k)
    return knn - gauss, knn, gauss


def canonical_pair_excess(
    x: torch.Tensor, y: torch.Tensor, *, pairs: int = 2, k: int = 3, n_resamples: int = 10, seed: int = 0
) -> dict[str, float]:
    """KSG minus the Gaussian MI on the leading canonical pairs of x, y (normal scores), in bits.

    Returns excess_bits, its standard error from ``n_resamples`` half-samples (the spread of a
    half-sample estimate is sqrt(2) times the full sample's), ksg_bits and gaussian_bits.
    """
    excess, knn, gauss = _excess(x, y, pairs, k)
    n = x.shape[0]
    g = cpu_generator(seed + 17)
    halves = []
    for _ in range(n_resamples):
        idx = torch.randperm(n, generator=g)[: n // 2].to(x.device)
        halves.append(_excess(x[idx], y[idx], pairs, k)[0])
    h = torch.tensor(halves, dtype=torch.float64)
    se = float(h.std(unbiased=True)) / math.sqrt(2.0)
    return {"excess_bits": excess, "se_bits": se, "ksg_bits": knn, "gaussian_bits": gauss, "pairs": float(pairs)}


def _inverse_sqrt(c: np.ndarray) -> np.ndarray:
    vals, vecs = np.linalg.eigh(c)
    return (vecs / np.sqrt(np.maximum(vals, 1e-12))) @ vecs.T


def t_canonical_pairs(corr: np.ndarray, dim_x: int, pairs: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The leading ``pairs`` canonical directions of a (d, d) correlation matrix split after dim_x:
    (a (dim_x, m), b (d - dim_x, m), canonical correlations (m,)); x @ a and y @ b have unit scale
    within a side and scale rho_i between pair i's two coordinates, 0 elsewhere."""
    wx, wy = _inverse_sqrt(corr[:dim_x, :dim_x]), _inverse_sqrt(corr[dim_x:, dim_x:])
    u, s, vt = np.linalg.svd(wx @ corr[:dim_x, dim_x:] @ wy)
    m = min(pairs, s.shape[0])
    return wx @ u[:, :m], wy @ vt[:m].T, np.minimum(s[:m], 1 - 1e-12)


def t_canonical_pair_excess(
    x: torch.Tensor, y: torch.Tensor, fit, *, pairs: int = 2, k: int = 3, n_resamples: int = 10, seed: int = 0
) -> dict[str, float]:
    """KSG minus the fitted t copula's MI on the fit's leading canonical pairs, in bits.

    x, y: normal scores (n, dx), (n, dy); fit: the :class:`.tcopula.TCopulaFit` of their joint copula.
    Returns excess_bits, its standard error from ``n_resamples`` half-samples of the KSG side (the
    model's pair MI is held at the full-data fit, so its own sampling error is not in the se),
    ksg_bits, model_bits (the t copula's MI on the pairs) and the pairs' dof.
    """
    from scipy import special, stats

    from .prepare import prepare_marginals
    from .tcopula import t_mi_nats

    dx = x.shape[1]
    a, b, rho = t_canonical_pairs(fit.corr, dx, pairs)
    m = rho.shape[0]
    block = np.eye(2 * m)
    block[:m, m:] = block[m:, :m] = np.diag(rho)
    model = t_mi_nats(block, fit.dof, m) * NATS_TO_BITS

    def t_scores(z: torch.Tensor) -> np.ndarray:
        """Normal scores -> t scores with the fit's nu (nu = inf: the normal scores themselves)."""
        z = z.detach().cpu().to(torch.float64).numpy()
        return z if math.isinf(fit.dof) else stats.t.ppf(special.ndtr(z), fit.dof)

    u, v = t_scores(x) @ a, t_scores(y) @ b
    u = prepare_marginals(torch.as_tensor(u), "copula")
    v = prepare_marginals(torch.as_tensor(v), "copula")
    knn = ksg_mi_bits(u, v, k=k)
    n = u.shape[0]
    g = cpu_generator(seed + 17)
    halves = []
    for _ in range(n_resamples):
        idx = torch.randperm(n, generator=g)[: n // 2]
        halves.append(ksg_mi_bits(u[idx], v[idx], k=k))
    se = float(torch.tensor(halves, dtype=torch.float64).std(unbiased=True)) / math.sqrt(2.0)
    return {"excess_bits": knn - model, "se_bits": se, "ksg_bits": knn, "model_bits": model,
            "gaussian_bits": model, "pairs": float(m), "dof": float(fit.dof)}  # fmt: skip


__all__ = ["canonical_pair_excess", "canonical_pairs", "t_canonical_pair_excess", "t_canonical_pairs"]
