"""The Cauchy-Schwarz quadratic mutual information (CS-QMI) with Gaussian kernels.

Yu, Yu, Lokse, Jenssen & Principe 2024, "Cauchy-Schwarz divergence information bottleneck for
regression" (ICLR). The CS divergence of densities p and q is

    D_CS(p; q) = -log[ (int p q)^2 / (int p^2  int q^2) ] >= 0,   0 iff p = q,

and CS-QMI is I_CS(X; Y) = D_CS(p(x, y); p(x) p(y)). With Parzen estimates of the densities the
three integrals are sums over Gram matrices K_ij = k(x_i - x_j), L_ij = l(y_i - y_j) (the paper's
estimator, and the authors' ``CS_QMI`` in ``loss_cs.py`` of SJYuCNEL/Cauchy-Schwarz-Information-Bottleneck):

    I_CS = log(1/n^2 sum_ij K_ij L_ij) + log(1/n^4 sum_ij K_ij sum_ij L_ij) - 2 log(1/n^3 sum_i (K1)_i (L1)_i),

here in bits (log2), as the authors' code reports it. The Gaussian kernel's normalising constants
cancel, so k(u) = exp(-|u|^2 / (2 sigma_x^2)) and likewise l with sigma_y: ``sigma_x`` and ``sigma_y``
are the widths of the Gram kernels (the code's ``sigma``), which are those of Parzen windows of width
sigma / sqrt(2) (a product of two Parzen windows integrates to a Gram kernel sqrt(2) wider). With
these Parzen densities the three sums are exact integrals, so the estimate is itself a CS divergence
between two densities: it is >= 0 always, and slightly above 0 for independent samples.

Widths, per variable: given ``sigma_x`` / ``sigma_y``, or from ``width``: ``"silverman"`` (the
default) the Parzen width of Silverman's rule, h = s (4 / ((d + 2) n))^(1 / (d + 4)) with s the mean
per-coordinate standard deviation, times sqrt(2); ``"median"`` the authors' code's default when no
width is given, 10 x the median squared pairwise distance, kept as written there (a width in units
of squared distance). The authors' regression experiments pass sigma = 1 on standardised data.
Silverman widths scale with the data, so the estimate is then invariant to rescaling x or y (and,
like every width, to translations, rotations, row order and swapping x with y).

Integer labels y get the Kronecker kernel L_ij = 1[y_i = y_j] (the Parzen estimate of a discrete
variable is its empirical distribution), so I(T; Y) of a layer and its labels is defined too.

For Gaussians the integrals are Gaussian (int N(0, A) N(0, B) = N(0; 0, A + B)), which gives the
closed form of :func:`gaussian_cs_qmi_nats`; the Parzen estimate converges to it with the covariance
smoothed by the windows, Sigma + diag(h^2), and to the unsmoothed value as the widths go to 0.

Cost: O(n^2 (dx + dy)) time; the Gram matrices are formed in blocks of rows, so memory is O(block x n).
Computed in float64 on the device of the inputs.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ..estimators.base import NATS_TO_BITS, as_tensor, check_choice, is_labels, register, row_chunks
from ..estimators.intervals import centre_on_subsample_mean

WIDTHS = ("silverman", "median")


def silverman_width(a: torch.Tensor) -> float:
    """The Gram-kernel width sqrt(2) h of Silverman's rule h = s (4 / ((d + 2) n))^(1/(d + 4)), a: (n, d)."""
    n, d = a.shape
    s = float(a.std(dim=0).mean())
    return math.sqrt(2.0) * s * (4.0 / ((d + 2) * n)) ** (1.0 / (d + 4))


def median_width(a: torch.Tensor) -> float:
    """The authors' default: 10 x the median of the squared pairwise distances i < j (at least 1e-2)."""
    d2 = torch.cdist(a, a).square()
    i, j = torch.triu_indices(a.shape[0], a.shape[0], offset=1, device=a.device)
    return 10.0 * max(float(d2[i, j].median()), 1e-2)


def _width(a: torch.Tensor, sigma, width: str, name: str) -> float:
    if sigma is not None:
        if isinstance(sigma, bool) or not isinstance(sigma, int | float) or not math.isfinite(sigma) or sigma <= 0:
            raise ValueError(f"sigma_{name} must be a finite number > 0 or None, got {sigma!r}")
        return float(sigma)
    value = silverman_width(a) if width == "silverman" else median_width(a)
    if not value > 0:
        raise ValueError(f"{name} has zero spread, so the {width} rule gives kernel width {value}; pass sigma_{name}")
    return value


def _gram_rows(a: torch.Tensor, rows: slice, sigma: float | None) -> torch.Tensor:
    if sigma is None:  # integer labels: the Kronecker kernel
        return (a[rows, None] == a[None, :]).to(torch.float64)
    return torch.exp(-torch.cdist(a[rows], a).square() / (2.0 * sigma**2))


def cs_qmi_nats_from_widths(x: torch.Tensor, y: torch.Tensor, sigma_x: float, sigma_y: float | None) -> float:
    """CS-QMI in nats of checked tensors (x (n, dx) floats; y (n, dy) floats or (n,) labels, sigma_y None)."""
    n = x.shape[0]
    joint = sum_k = sum_l = cross = 0.0
    for rows in row_chunks(n, n * 2, device=x.device):
        k, l = _gram_rows(x, rows, sigma_x), _gram_rows(y, rows, sigma_y)
        joint += float((k * l).sum())
        ks, ls = k.sum(dim=1), l.sum(dim=1)
        sum_k, sum_l, cross = sum_k + float(ks.sum()), sum_l + float(ls.sum()), cross + float((ks * ls).sum())
    return math.log(joint) + math.log(sum_k) + math.log(sum_l) - 2.0 * math.log(cross)


def _device(a) -> torch.device:
    return a.device if isinstance(a, torch.Tensor) else torch.device("cpu")


@register("cs_qmi", ci="subsample", labels_ok=True)
@centre_on_subsample_mean  # Silverman widths shrink with n: subsamples are biased, so spread is taken about their mean
def cs_qmi_bits(x, y, sigma_x: float | None = None, sigma_y: float | None = None, width: str = "silverman") -> float:
    """CS-QMI I_CS(X; Y) in bits with Gaussian kernels (Yu et al. 2024); see the module docstring.

    x: (n, dx) floats; y: (n, dy) floats or (n,) integer labels (Kronecker kernel); numpy or torch
    on any device; n >= 4. sigma_x, sigma_y: Gram-kernel widths in the units of x and y (None: from
    ``width``, ``"silverman"`` or ``"median"``; sigma_y is ignored for labels). >= 0; 0 iff the Parzen
    joint equals the product of the Parzen marginals. Not Shannon MI: a quadratic (Renyi order-2 like)
    dependence measure, on the same bits scale only in its logarithm's base.
    """
    check_choice(width, "width", WIDTHS)
    device = _device(x)
    x = as_tensor(x, "x", device)
    y = as_tensor(y, "y", device, labels_ok=True)
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"x and y must have the same number of rows, got {x.shape[0]} and {y.shape[0]}")
    if x.shape[0] < 4:
        raise ValueError(f"CS-QMI needs at least 4 rows, got n={x.shape[0]}")
    sx = _width(x, sigma_x, width, "x")
    sy = None if is_labels(y) else _width(y, sigma_y, width, "y")
    return cs_qmi_nats_from_widths(x, y, sx, sy) * NATS_TO_BITS


def gaussian_cs_qmi_nats(cov, dx: int) -> float:
    """I_CS(X; Y) in nats of a Gaussian (X, Y) with covariance ``cov`` ((dx + dy) x (dx + dy)), X the first dx.

    With D = blockdiag(cov_xx, cov_yy) the covariance of p(x) p(y) and int N(0, A) N(0, B) =
    (2 pi)^(-d/2) |A + B|^(-1/2):  I_CS = log|cov + D| - 1/2 log|2 cov| - 1/2 log|2 D|. For a bivariate
    Gaussian with unit variances and correlation rho, I_CS = log[(4 - rho^2) / (4 sqrt(1 - rho^2))].
    Invariant to invertible linear maps of X and of Y separately.
    """
    c = np.asarray(cov, dtype=np.float64)
    if c.ndim != 2 or c.shape[0] != c.shape[1] or not 0 < dx < c.shape[0]:
        raise ValueError(f"cov must be square (dx + dy) x (dx + dy) with 0 < dx < its size, got {c.shape}, dx={dx}")
    d = np.zeros_like(c)
    d[:dx, :dx], d[dx:, dx:] = c[:dx, :dx], c[dx:, dx:]
    logdet = lambda m: np.linalg.slogdet(m)[1]  # noqa: E731
    return float(logdet(c + d) - 0.5 * logdet(2 * c) - 0.5 * logdet(2 * d))
