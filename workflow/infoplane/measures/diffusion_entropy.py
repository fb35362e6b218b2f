"""Diffusion spectral entropy (DSE) and diffusion spectral mutual information (DSMI).

Liao, Liu, Moyer, Tong, Krishnaswamy et al. 2023, "Assessing neural network representations during
training using noise-resilient diffusion spectral entropy" (ICML TAGML workshop; arXiv:2312.04823).
The definitions follow the authors' package ``dse-dsmi`` (version 1.1), whose values the tests
reproduce to float64 round-off:

- The data graph of n points z_i: Gaussian affinities G_ij = exp(-|z_i - z_j|^2 / (2 sigma^2)) with
  the Euclidean distance and bandwidth ``sigma`` (the package's ``gaussian_kernel_sigma``, default 10;
  its 1/(sigma sqrt(2 pi)) factor cancels in what follows and is dropped). The diffusion matrix
  P = D^-1 G, D = diag(G 1), is a random walk on that graph; K = D^-1/2 G D^-1/2 is symmetric with
  the eigenvalues lambda_i of P, so the spectrum comes from a symmetric eigendecomposition of K.
- DSE(Z) = -sum_i p_i log2 p_i with p_i = |lambda_i|^t / sum_j |lambda_j|^t: the entropy, in bits,
  of the spectrum of P^t, the walk after ``t`` steps (the diffusion time; the package's ``t``,
  default 1). Raising the spectrum to t damps the small eigenvalues that noise contributes; with k
  well-separated tight clusters P has k eigenvalues near 1 and, for large t, DSE -> log2 k.
- DSMI(Z; Y) = DSE(Z) - DSE(Z | Y), DSE(Z | Y) = sum_c p(c) DSE(Z | Y = c), estimated as
  sum_c p(c) [DSE(Z*_c) - DSE(Z | Y = c)] where Z*_c is a random subset of all rows of the size of
  class c, averaged over ``n_repetitions`` subsets, because DSE grows with the number of points.
  The subsets are drawn as the package draws them (Python's ``random.Random(seed).sample``, the
  stream restarted for each class), so for the same seed the values equal the package's. Y is either
  integer labels, or a continuous reference that is discretised first: a scalar into ``n_clusters``
  equal-width bins of its range, a vector by spectral clustering into ``n_clusters`` clusters
  (scikit-learn, nearest-neighbour affinity, ``cluster_qr``, random_state 0, on CPU, as the package).

Differences from the package: no subsampling to ``max_N`` = 10,000 points (pass the rows you want),
no Chebyshev approximation of the spectrum, and zero probabilities contribute 0 (the package adds
machine epsilon to every p_i; the difference is below 1e-11 bits for n < 10,000).

Cost: the n x n affinity matrix (O(n^2 d) time, O(n^2) memory) and its dense symmetric
eigendecomposition, O(n^3) time: about a second for n = 2,000 on one CPU core. DSMI pays this for
every class and (1 + n_repetitions) times, on n_c rows each. Computed in float64 on the device of
the input (the GPU when the tensor is there).
"""

from __future__ import annotations

import math
import random

import numpy as np
import torch

from ..estimators.base import NATS_TO_BITS, as_tensor, check_positive_int, is_labels, register
from ..estimators.plane import PlaneResult, register_plane

DEFAULT_SIGMA = 10.0  # the package's default bandwidth; scale it to the spread of the representation


def _check_number(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def _points(z, name: str = "z") -> torch.Tensor:
    device = z.device if isinstance(z, torch.Tensor) else torch.device("cpu")
    return as_tensor(z, name, device)


def diffusion_eigenvalues(z: torch.Tensor, sigma: float = DEFAULT_SIGMA) -> torch.Tensor:
    """The n eigenvalues (ascending, float64) of the diffusion matrix P = D^-1 G of the rows of z (n, d)."""
    d2 = torch.cdist(z, z).square()
    g = torch.exp(-d2 / (2.0 * sigma**2))
    s = g.sum(dim=1).rsqrt()
    return torch.linalg.eigvalsh(s[:, None] * g * s[None, :])


def _dse(z: torch.Tensor, sigma: float, t: float) -> float:
    lam = diffusion_eigenvalues(z, sigma).abs() ** t
    p = lam / lam.sum()
    return float(-torch.special.xlogy(p, p).sum()) * NATS_TO_BITS


def diffusion_spectral_entropy_bits(z, sigma: float = DEFAULT_SIGMA, t: float = 1) -> float:
    """DSE(Z) in bits: the entropy of the normalised spectrum |lambda|^t of the diffusion matrix of z.

    z: (n, d) (or (n,)) floats, numpy or torch on any device; n >= 2. sigma: the Gaussian bandwidth,
    > 0, in the units of z. t: the diffusion time, > 0 (an integer number of steps in the paper; any
    positive power is accepted). Lies in [0, log2 n]. See the module docstring.
    """
    sigma, t = _check_number(sigma, "sigma"), _check_number(t, "t")
    z = _points(z)
    if z.shape[0] < 2:
        raise ValueError(f"diffusion spectral entropy needs at least 2 rows of z, got n={z.shape[0]}")
    return _dse(z, sigma, t)


def reference_clusters(reference: torch.Tensor, n_clusters: int = 10) -> torch.Tensor:
    """Integer groups (n,) of a reference as DSMI uses them: labels as they are, a scalar into
    ``n_clusters`` equal-width bins of its range (numpy's ``digitize`` of the min-max scaled values),
    a vector by spectral clustering into ``n_clusters`` clusters (scikit-learn, on CPU)."""
    if is_labels(reference):
        return reference
    if reference.ndim == 1:
        reference = reference[:, None]
    if reference.shape[1] == 1:
        v = reference[:, 0]
        span = v.max() - v.min()
        v = (v - v.min()) / span if span > 0 else torch.zeros_like(v)
        edges = torch.linspace(0.0, 1.0, n_clusters + 1, dtype=v.dtype, device=v.device)[:-1]
        return torch.bucketize(v, edges, right=True)
    from sklearn.cluster import SpectralClustering  # late: only vector references need it

    a = reference.detach().cpu().numpy()
    op = SpectralClustering(
        n_clusters=n_clusters, affinity="nearest_neighbors", assign_labels="cluster_qr", random_state=0
    )
    labels = op.fit(a).labels_
    return torch.as_tensor(labels.astype(np.int64), device=reference.device)


def dsmi_from_clusters(
    z: torch.Tensor, groups: torch.Tensor, sigma: float, t: float, n_repetitions: int, seed: int
) -> float:
    """DSMI(Z; groups) in bits for checked float64 z (n, d) and integer groups (n,); see the module docstring."""
    n = z.shape[0]
    values, counts = torch.unique(groups, return_counts=True)
    total = 0.0
    for value, count in zip(values.tolist(), counts.tolist(), strict=True):
        conditional = _dse(z[groups == value], sigma, t)
        rng = random.Random(seed)  # restarted per class, as the reference package does
        subsets = [rng.sample(range(n), k=count) for _ in range(n_repetitions)]
        marginal = sum(_dse(z[torch.as_tensor(rows, device=z.device)], sigma, t) for rows in subsets) / n_repetitions
        total += count / n * (marginal - conditional)
    return total


def diffusion_spectral_mi_bits(
    z,
    reference,
    sigma: float = DEFAULT_SIGMA,
    t: float = 1,
    n_repetitions: int = 5,
    n_clusters: int = 10,
    seed: int = 0,
) -> float:
    """DSMI(Z; Y) in bits (Liao et al. 2023): DSE(Z) minus its mean within the groups of the reference Y.

    z: (n, d) the representation; reference: (n,) integer labels, or (n,) / (n, d') floats that are
    grouped into ``n_clusters`` bins (scalar) or spectral clusters (vector) first. sigma, t: as in
    :func:`diffusion_spectral_entropy_bits`. n_repetitions: random subsets per class estimating DSE(Z)
    at the class's size. seed: those subsets (Python's ``random.Random``, as the reference package).
    n >= 2. Near 0 when Y is independent of Z (it can be slightly negative), up to about
    log2(n / n_c) when each class collapses to a point. Not Shannon MI: it measures how much of the
    diffusion geometry of Z the groups of Y explain.
    """
    sigma, t = _check_number(sigma, "sigma"), _check_number(t, "t")
    n_repetitions = check_positive_int(n_repetitions, "n_repetitions")
    n_clusters = check_positive_int(n_clusters, "n_clusters", minimum=2)
    seed = check_positive_int(seed, "seed", minimum=0)
    z = _points(z)
    device = z.device
    ref = as_tensor(reference, "reference", device, labels_ok=True)  # (n,) int64 labels or (n, d') float64
    if z.shape[0] < 2:
        raise ValueError(f"diffusion spectral mutual information needs at least 2 rows, got n={z.shape[0]}")
    if ref.shape[0] != z.shape[0]:
        raise ValueError(f"z and reference must have the same number of rows, got {z.shape[0]} and {ref.shape[0]}")
    groups = reference_clusters(ref, n_clusters)
    return dsmi_from_clusters(z, groups, sigma, t, n_repetitions, seed)


@register("dsmi", ci="none", labels_ok=True)
def dsmi_bits(
    x, y, sigma: float = DEFAULT_SIGMA, t: float = 1, n_repetitions: int = 5, n_clusters: int = 10, seed: int = 0
) -> float:
    """DSMI(X; Y) in bits, X the representation and Y the reference (labels, or clustered): the estimator
    form of :func:`diffusion_spectral_mi_bits`. No interval (``ci="none"``): DSE depends on n by design,
    so subsamples do not estimate its spread. On the information plane the ``dsmi`` plane
    (:func:`dsmi_plane`) gives I_XT = DSMI(T; X) and I_TY = DSMI(T; Y)."""
    return diffusion_spectral_mi_bits(x, y, sigma, t, n_repetitions, n_clusters, seed)


@register_plane("dsmi")
def dsmi_plane(
    activations,
    inputs,
    labels,
    sigma: float = DEFAULT_SIGMA,
    t: float = 1,
    n_repetitions: int = 5,
    n_clusters: int = 10,
    seed: int = 0,
    **_estimate_keys,  # ci and the like: DSMI has no interval
) -> PlaneResult:
    """DSMI(T; X) and DSMI(T; Y) of one layer at every epoch, in bits, as Liao et al. 2023 plot them.

    activations: (E, n, d); inputs: (n, dx), grouped once into ``n_clusters`` spectral clusters (a
    scalar input into bins), the groups then shared by every epoch; labels: (n,) integers.
    Returns {"I_XT": ..., "I_TY": ...}, each {"mi_bits": (E,), no interval}.
    """
    sigma, t = _check_number(sigma, "sigma"), _check_number(t, "t")
    n_repetitions = check_positive_int(n_repetitions, "n_repetitions")
    n_clusters = check_positive_int(n_clusters, "n_clusters", minimum=2)
    seed = check_positive_int(seed, "seed", minimum=0)
    device = activations.device
    x_groups = reference_clusters(as_tensor(inputs, "inputs", device), n_clusters)
    y_groups = as_tensor(labels, "labels", device, labels_ok=True)
    if not is_labels(y_groups):
        y_groups = reference_clusters(y_groups, n_clusters)
    out: dict[str, list[float]] = {"I_XT": [], "I_TY": []}
    for epoch, layer in enumerate(activations):
        z = as_tensor(layer, f"activations[{epoch}]", device)
        out["I_XT"].append(dsmi_from_clusters(z, x_groups, sigma, t, n_repetitions, seed))
        out["I_TY"].append(dsmi_from_clusters(z, y_groups, sigma, t, n_repetitions, seed))
    return {q: {"mi_bits": torch.tensor(v, dtype=torch.float64), "ci_low_bits": None, "ci_high_bits": None}
            for q, v in out.items()}  # fmt: skip


dsmi_plane.protocol_ok = False  # the per-epoch protocol path would call dsmi(X, T): the wrong way round
