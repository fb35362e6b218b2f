"""The Gaussian (linear, CCA) baseline: the MI of the Gaussian with the data's covariance.

I_G(X;Y) = 1/2 [log det C_xx + log det C_yy - log det C] = -1/2 sum_i log(1 - rho_i^2),
rho_i the canonical correlations (Hotelling 1936; Cover & Thomas 2006, eq. 8.56 for the
Gaussian entropy). It is exact for jointly Gaussian data and, for any distribution, the MI of
the Gaussian with the same second moments; it sees only linear dependence.

The plug-in value is biased upward. For Gaussian data the bias is known exactly: the sample
covariance (n - 1 degrees of freedom) is Wishart, E[log det S] = log det Sigma + sum_{i=1..d}
psi((n - i) / 2) + d log(2 / (n - 1)) (Anderson 2003, Thm. 7.5.3; Cover & Thomas's Gaussian
entropy), and in the MI the terms of the three determinants leave

    E[I_hat] - I = 1/2 sum_{j=1..dy} [psi((n - j) / 2) - psi((n - dx - j) / 2)]  nats,

about dx dy / (2n) while n >> dx + dy (0.36 bit at 50+50 dimensions and n = 5000), whatever
Sigma is. ``bias_correction=True`` subtracts it (:func:`gaussian_bias_nats`); the result is then
unbiased for Gaussian data and can be slightly negative at independence.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy import special

from .base import NATS_TO_BITS, check_min_samples, is_labels, register


def one_hot(labels: torch.Tensor) -> torch.Tensor:
    """(n,) integer labels -> (n, C - 1) float64 indicators (one class dropped: full rank)."""
    _, inv = torch.unique(labels, return_inverse=True)
    c = int(inv.max()) + 1
    return torch.nn.functional.one_hot(inv, c)[:, 1:].to(torch.float64)


def gaussian_bias_nats(n: int, dim_x: int, dim_y: int) -> float:
    """E[I_hat] - I of the plug-in Gaussian MI on n Gaussian rows (exact; module docstring), in nats."""
    j = np.arange(1, dim_y + 1, dtype=np.float64)
    return 0.5 * float((special.digamma((n - j) / 2) - special.digamma((n - dim_x - j) / 2)).sum())


@register("gaussian", ci="subsample", labels_ok=True)
def gaussian_mi_bits(x: torch.Tensor, y: torch.Tensor, ridge: float = 1e-9, bias_correction: bool = False) -> float:
    """Gaussian / CCA estimate of I(X;Y) in bits.

    x: (n, dx); y: (n, dy) or (n,) integer labels (one-hot encoded, the linear-discriminant
    view). ridge: added to the diagonal of each correlation matrix (relative to unit variance)
    so that constant or collinear columns (dead units) do not make a determinant vanish.
    bias_correction: subtract the exact finite-sample bias for Gaussian data (module docstring);
    the result is not clamped at 0 then.
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
    mi = max(float(0.5 * (ld(corr[:dx, :dx])[1] + ld(corr[dx:, dx:])[1] - ld(corr)[1])), 0.0)
    if bias_correction:
        mi -= gaussian_bias_nats(n, dx, y.shape[1])
    return mi * NATS_TO_BITS
