"""Condition numbers of weight matrices and of a layer's activation covariance.

The (2-norm) condition number of an m x n matrix A is kappa(A) = s_max / s_min, the ratio of its
largest to its smallest singular value, over the min(m, n) singular values: for a non-square
matrix it is ||A|| ||A^+|| with A^+ the pseudo-inverse, the condition number of least squares in A
(Golub & Van Loan, "Matrix computations", 4th ed., 2.6.2 and 5.3). kappa >= 1, = 1 for a matrix
with orthonormal rows or columns (times a scale). A matrix whose smallest singular value is at or
below ``rtol`` x s_max (default max(m, n) x the machine epsilon of its dtype, numpy's rule for
numerical rank) is rank-deficient and gets kappa = inf; the zero matrix has no condition number and
raises ValueError.

Weights: a linear layer's weight (out, in) is the matrix; a convolution's (out, in, *kernel) is
flattened to (out, in x prod(kernel)), the matrix of the convolution on one patch. Activations: the
condition number of the covariance of a layer's activations T (n, d), eig_max / eig_min of the
d x d sample covariance, which is kappa of the centred data matrix squared. With n <= d the
covariance is singular (kappa = inf); ``ridge`` adds ridge x I (in units of the activations' variance)
to regularise it. Singular values are computed in float64 on the device of the input.
"""

from __future__ import annotations

import math

import torch

from ..estimators.base import as_tensor


def _check_rtol(rtol) -> float | None:
    if rtol is None:
        return None
    if isinstance(rtol, bool) or not isinstance(rtol, int | float) or not 0 <= rtol < 1:
        raise ValueError(f"rtol must be a number in [0, 1) or None, got {rtol!r}")
    return float(rtol)


def _finite(a: torch.Tensor, name: str) -> torch.Tensor:
    if a.numel() == 0:
        raise ValueError(f"{name} is empty, shape {tuple(a.shape)}")
    if not torch.isfinite(a).all():
        raise ValueError(f"{name} contains {int((~torch.isfinite(a)).sum())} non-finite values (NaN or inf)")
    return a


def _ratio(s: torch.Tensor, rtol: float | None, shape: tuple[int, int], eps: float, name: str) -> torch.Tensor:
    """s: (..., k) descending singular (or eigen) values -> (...) s_max / s_min, inf where rank-deficient."""
    top, bottom = s[..., 0], s[..., -1]
    if (top == 0).any():
        raise ValueError(f"{name} is all zeros (in {int((top == 0).sum())} matrices): it has no condition number")
    tol = max(shape) * eps if rtol is None else rtol
    kappa = top / bottom
    return torch.where(bottom <= tol * top, torch.full_like(kappa, math.inf), kappa)


def condition_number(a, rtol: float | None = None) -> torch.Tensor:
    """kappa = s_max / s_min of each matrix in a (..., m, n), as float64 (...); inf where rank-deficient.

    a: numpy or torch, any device; m, n >= 1. rtol: singular values <= rtol x s_max count as zero
    (None: max(m, n) x the epsilon of a's floating dtype, float32 for integers).
    """
    rtol = _check_rtol(rtol)
    a = torch.as_tensor(a)
    if a.ndim < 2:
        raise ValueError(f"a must have shape (..., m, n), got {tuple(a.shape)}")
    dtype = a.dtype if a.is_floating_point() else torch.float32
    eps = torch.finfo(dtype).eps
    a = _finite(a.to(torch.float64), "a")
    return _ratio(torch.linalg.svdvals(a), rtol, tuple(a.shape[-2:]), eps, "a")


def weight_condition_number(weight, rtol: float | None = None) -> float:
    """kappa of a layer's weight: (out, in) as it is, (out, in, *kernel) as (out, in x prod(kernel)).

    A 1-d tensor (a bias, a norm's scale) has no condition number and raises ValueError.
    """
    w = torch.as_tensor(weight)
    if w.ndim < 2:
        raise ValueError(f"weight must have shape (out, in) or (out, in, *kernel), got {tuple(w.shape)}")
    return float(condition_number(w.reshape(w.shape[0], -1), rtol))


def activation_condition_number(activations, ridge: float = 0.0, rtol: float | None = None) -> torch.Tensor:
    """kappa of the sample covariance of a layer: eig_max / eig_min of cov(T) + ridge x mean variance x I.

    activations: (n, d) one layer, or (E, n, d) the layer at E epochs (then a (E,) tensor); n >= 2.
    Returns a float64 tensor, () or (E,); inf where the covariance is singular (n <= d, dead or
    duplicated units) and ridge is 0. A layer with no variance at all raises ValueError.
    """
    if isinstance(ridge, bool) or not isinstance(ridge, int | float) or not math.isfinite(ridge) or ridge < 0:
        raise ValueError(f"ridge must be a finite number >= 0, got {ridge!r}")
    rtol = _check_rtol(rtol)
    t = torch.as_tensor(activations)
    if t.ndim == 2:
        device = t.device
        t = as_tensor(t, "activations", device)[None]
        squeeze = True
    elif t.ndim == 3:
        t, squeeze = _finite(t.to(torch.float64), "activations"), False
    else:
        raise ValueError(f"activations must have shape (n, d) or (E, n, d), got {tuple(t.shape)}")
    n, d = t.shape[-2:]
    if n < 2:
        raise ValueError(f"the covariance of activations needs at least 2 rows, got n={n}")
    c = t - t.mean(dim=-2, keepdim=True)
    # The covariance's eigenvalues are s^2 / (n - 1) of the centred data's singular values s (n < d: d - n
    # more zeros). From s, not from the covariance, so that rank is judged at the data's precision.
    s = torch.linalg.svdvals(c)
    if n < d:
        s = torch.cat([s, s.new_zeros(*s.shape[:-1], d - n)], dim=-1)
    if (s[..., 0] == 0).any():
        raise ValueError("activations have zero variance in every unit: the covariance has no condition number")
    if ridge == 0:
        kappa = _ratio(s, rtol, (n, d), torch.finfo(torch.float64).eps, "the centred activations") ** 2
    else:
        eig = s.square() / (n - 1)
        eig = eig + ridge * eig.sum(dim=-1, keepdim=True) / d  # ridge x the mean variance
        kappa = eig[..., 0] / eig[..., -1]
    return kappa[0] if squeeze else kappa
