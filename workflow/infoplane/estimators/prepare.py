"""Preprocessing that preserves mutual information, shared by every estimator: ``marginals``.

I(X;Y) is unchanged by any injective map applied to X and to Y separately, in particular by a
strictly monotone map of each coordinate. An estimator is not: its bias depends on the shape of
the marginals. One preset key, ``marginals``, chooses the step that runs before any method:

- ``"none"`` (the default): the data as given. Methods keep their own conventions (kNN methods
  centre, and by default scale, every column; see ``standardize`` of :func:`.knn.ksg_mi_bits`).
- ``"standardize"``: centre every coordinate and divide it by its standard deviation. Helps any
  method with a length scale (kernel widths, bins of fixed width, critics) when coordinates have
  very different scales; changes nothing for the kNN methods, which already scale columns.
- ``"copula"``: replace every coordinate by the normal score of its rank,
  Phi^-1(rank / (n + 1)) (ties get their average rank). The result has standard normal
  marginals whatever the input's, so estimates become invariant to per-coordinate monotone maps
  (exactly, for rank-based methods such as KSG, whose neighbours depend only on the ranks).
  Helps on heavy tails (Student-t, Cauchy: a few far points no longer squash the rest together),
  on skewed or bounded marginals (normal CDF, cube, asinh transforms) and makes the Gaussian
  estimator the exact Gaussian-copula estimator. It does not help when the dependence itself is
  not coordinatewise (a rotation such as the spiral, a swiss roll), and it merges tied values
  into one score, so it does nothing for discrete data. Integer class labels pass unchanged.

Czyz et al. (2023, "Beyond normal", NeurIPS) found such marginal preprocessing to matter more for
kNN and neural estimators than the choice among them on transformed-Gaussian tasks.
"""

from __future__ import annotations

import torch

MARGINALS = ("none", "standardize", "copula")


def standardize_columns(a: torch.Tensor) -> torch.Tensor:
    """Centre every column and divide it by its standard deviation (ddof 0; constant columns kept at 0)."""
    a = a - a.mean(dim=0, keepdim=True)
    std = a.std(dim=0, unbiased=False, keepdim=True)
    return a / torch.where(std > 0, std, torch.ones_like(std))


def jitter(a: torch.Tensor, noise: float, generator: torch.Generator | None) -> torch.Tensor:
    """Add ``noise`` x (column std) x N(0, 1) to ``a`` (breaks ties between duplicate points)."""
    if noise == 0:
        return a
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise}")
    std = a.std(dim=0, unbiased=False, keepdim=True)
    std = torch.where(std > 0, std, torch.ones_like(std))
    eps = torch.randn(a.shape, generator=generator, dtype=a.dtype, device="cpu").to(a.device)
    return a + noise * std * eps


def copula_scores(a: torch.Tensor) -> torch.Tensor:
    """Per column, the standard normal score Phi^-1(rank / (n + 1)) of every value (average ranks for ties).

    a: (n, d) floats; returns (n, d) float64 on a's device.
    """
    from scipy import special, stats

    values = a.detach().to(device="cpu", dtype=torch.float64).numpy()
    ranks = stats.rankdata(values, method="average", axis=0)
    scores = special.ndtri(ranks / (values.shape[0] + 1.0))
    return torch.as_tensor(scores, dtype=torch.float64, device=a.device)


def prepare_marginals(a: torch.Tensor, marginals: str = "none") -> torch.Tensor:
    """Apply the ``marginals`` step (see the module docstring) to a (n, d) float tensor.

    1-d integer tensors (class labels) are returned unchanged by every step.
    """
    if marginals not in MARGINALS:
        raise ValueError(f"marginals must be one of {MARGINALS}, got {marginals!r}")
    if marginals == "none" or (a.ndim == 1 and not torch.is_floating_point(a)):
        return a
    if marginals == "standardize":
        return standardize_columns(a)
    return copula_scores(a)
