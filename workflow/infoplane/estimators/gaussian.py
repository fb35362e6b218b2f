"""The Gaussian (linear, CCA) baseline: the MI of the Gaussian with the data's covariance.

I_G(X;Y) = 1/2 [log det C_xx + log det C_yy - log det C] = -1/2 sum_i log(1 - rho_i^2),
rho_i the canonical correlations (Hotelling 1936; Cover & Thomas 2006, eq. 8.56 for the
Gaussian entropy). It is exact for jointly Gaussian data and, for any distribution, the MI of
the Gaussian with the same second moments; it sees only linear dependence.
"""

from __future__ import annotations

import torch

from .base import NATS_TO_BITS, check_min_samples, is_labels, register


def one_hot(labels: torch.Tensor) -> torch.Tensor:
    """(n,) integer labels -> (n, C - 1) float64 indicators (one class dropped: full rank)."""
    _, inv = torch.unique(labels, return_inverse=True)
    c = int(inv.max()) + 1
    return torch.nn.functional.one_hot(inv, c)[:, 1:].to(torch.float64)


@register("gaussian", ci="subsample", labels_ok=True)
def gaussian_mi_bits(x: torch.Tensor, y: torch.Tensor, ridge: float = 1e-9) -> float:
    """Gaussian / CCA estimate of I(X;Y) in bits.

    x: (n, dx); y: (n, dy) or (n,) integer labels (one-hot encoded, the linear-discriminant
    view). ridge: added to the diagonal of each correlation matrix (relative to unit variance)
    so that constant or collinear columns (dead units) do not make a determinant vanish.
    Reference: canonical correlation analysis, Hotelling (1936); the Gaussian MI formula,
    Cover & Thomas (2006), Elements of Information Theory, ch. 8.
    """
    if is_labels(y):
        y = one_hot(y)
    n, dx = x.shape
    check_min_samples(n, dx + y.shape[1] + 2, "the Gaussian estimator (n > dx + dy + 1)")
    z = torch.cat([x, y], dim=1).to(torch.float64)
    z = z - z.mean(dim=0, keepdim=True)
    std = z.std(dim=0, unbiased=True)
    z = z / torch.where(std > 0, std, torch.ones_like(std))
    corr = (z.T @ z) / (n - 1)
    corr = corr + ridge * torch.eye(corr.shape[0], dtype=corr.dtype, device=corr.device)
    ld = torch.linalg.slogdet
    mi = 0.5 * (ld(corr[:dx, :dx])[1] + ld(corr[dx:, dx:])[1] - ld(corr)[1])
    return max(float(mi), 0.0) * NATS_TO_BITS
