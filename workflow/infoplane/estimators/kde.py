"""Kernel-density bounds on the MI of a noisy layer (Kolchinsky & Tracey 2017; Saxe et al. 2018).

A deterministic layer has infinite I(X;T) for continuous X; the convention of Saxe et al. (2018)
is to study the layer with additive Gaussian noise, T = h(X) + Z, Z ~ N(0, s^2 I_d), with X
uniform over the n input patterns. Then T is a mixture of n Gaussians of equal weight centred at
h_i = h(x_i), H(T | X) = d/2 log(2 pi e s^2), and the pairwise-distance bounds on the entropy of
a mixture (Kolchinsky & Tracey 2017, "Estimating mixture entropy with pairwise distances",
Entropy 19(7), 361) bound I(X;T) = H(T) - H(T|X):

    upper (KL divergence):        I <= -1/n sum_i log 1/n sum_j exp(-|h_i - h_j|^2 / (2 s^2))
    lower (Bhattacharyya):        I >= -1/n sum_i log 1/n sum_j exp(-|h_i - h_j|^2 / (8 s^2))

(in nats; the d/2 log(2 pi e s^2) terms cancel). I(T;Y) = H(T) - sum_c p_c H(T | Y = c), each
entropy bounded the same way over the patterns of one class, as in the code of Saxe et al.;
this difference of two bounds is an estimate rather than a bound.

``adaptive=True`` sets the noise from the layer's own spread at that epoch,
s^2 = relative_noise_variance x Var(T) (each unit's variance over the samples, averaged
over units), so that saturating or
growing activations do not change the result by scale alone (Chelombiev, Houghton & O'Donnell
2019, "Adaptive estimators show information compression in deep neural networks", ICLR).
The default relative variance 0.1 equals Saxe et al.'s s^2 = 0.1 for unit-variance activity.

Pairwise distances are computed in row blocks, batched over epochs: memory O(E x block x n).
"""

from __future__ import annotations

import math

import torch

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
from .plane import QUANTITIES, PlaneResult, register_plane

BOUNDS = ("upper", "lower")
# Bhattacharyya (lower) bound: the kernel width is doubled, i.e. the variance multiplied by 4.
_VARIANCE_FACTOR = {"upper": 1.0, "lower": 4.0}


def _noise_variance(t: torch.Tensor, noise_variance: float, adaptive: bool, relative_noise_variance: float):
    """(E,) noise variances for activations t (E, n, d)."""
    if adaptive:
        if not relative_noise_variance > 0:
            raise ValueError(f"relative_noise_variance must be > 0, got {relative_noise_variance}")
        var = t.reshape(t.shape[0], -1).var(dim=1, unbiased=False)
        var = torch.where(var > 0, var, torch.ones_like(var))
        return relative_noise_variance * var
    if not noise_variance > 0:
        raise ValueError(f"noise_variance must be > 0, got {noise_variance}")
    return torch.full((t.shape[0],), float(noise_variance), dtype=t.dtype, device=t.device)


def kde_plane_nats(
    t: torch.Tensor,
    labels: torch.Tensor | None,
    noise_variance: float = 0.1,
    bound: str = "upper",
    adaptive: bool = False,
    relative_noise_variance: float = 0.1,
    chunk_size: int | None = None,
) -> dict[str, torch.Tensor]:
    """Kernel bounds of I(X;T) and, with labels, I(T;Y) in nats at every epoch.

    t: (E, n, d) activations (the noise-free layer); labels: (n,) integers or None.
    Returns {"I_XT": (E,)} and, with labels, "I_TY": (E,), float64.
    """
    check_choice(bound, "bound", BOUNDS)
    if t.ndim != 3:
        raise ValueError(f"activations must have shape (epoch, sample, unit), got {tuple(t.shape)}")
    E, n, _ = t.shape
    check_min_samples(n, 2, "the kernel-density bounds")
    t = t.to(torch.float64)
    t = t - t.mean(dim=1, keepdim=True)
    var = _noise_variance(t, noise_variance, adaptive, relative_noise_variance) * _VARIANCE_FACTOR[bound]
    scale = (-0.5 / var)[:, None, None]  # (E, 1, 1)
    sq = (t * t).sum(dim=2)  # (E, n)
    lse_all = torch.empty((E, n), dtype=torch.float64, device=t.device)
    lse_class = torch.empty_like(lse_all) if labels is not None else None
    if labels is not None:
        if labels.ndim != 1 or labels.shape[0] != n:
            raise ValueError(f"labels must have shape ({n},), got {tuple(labels.shape)}")
        _, cls = torch.unique(labels.to(t.device), return_inverse=True)
        counts = torch.bincount(cls)
    for rows in row_chunks(n, E * n, chunk_size):
        d2 = torch.baddbmm(sq[:, rows, None] + sq[:, None, :], t[:, rows], t.transpose(1, 2), alpha=-2.0)
        logits = d2.clamp_(min=0.0) * scale  # (E, rows, n)
        lse_all[:, rows] = torch.logsumexp(logits, dim=2)
        if labels is not None:
            same = cls[rows, None] == cls[None, :]
            lse_class[:, rows] = torch.logsumexp(logits.masked_fill_(~same, float("-inf")), dim=2)
    h_all = -(lse_all - math.log(n)).mean(dim=1)  # (E,) = I(X;T) bound
    out = {"I_XT": h_all}
    if labels is not None:
        per_point = -(lse_class - torch.log(counts[cls].to(torch.float64)))  # (E, n)
        # sum_c p_c mean_{i in c} = mean over all points
        out["I_TY"] = h_all - per_point.mean(dim=1)
    return out


def _plane_bits(t, labels, **params) -> dict[str, torch.Tensor]:
    return {q: v * NATS_TO_BITS for q, v in kde_plane_nats(t, labels, **params).items()}


@register_plane("kde")
def kde_plane(
    activations: torch.Tensor,
    inputs: torch.Tensor,
    labels: torch.Tensor,
    noise_variance: float = 0.1,
    bound: str = "upper",
    adaptive: bool = False,
    relative_noise_variance: float = 0.1,
    ci: bool = True,
    ci_resamples: int = 20,
    ci_fraction: float = 0.5,
    ci_level: float = 0.95,
    seed: int = 0,
    chunk_size: int | None = None,
) -> PlaneResult:
    """Batched kernel bounds of I(X;T) and I(T;Y) in bits for one layer at E epochs.

    activations: (E, n, d); inputs: (n, dx), unused (X is uniform over the n patterns);
    labels: (n,) integers. Intervals: the basic subsampling interval of
    :mod:`infoplane.estimators.intervals`, the same subsets at every epoch.
    Reference: Kolchinsky & Tracey (2017); Saxe et al. (2018), ICLR; ``adaptive``: Chelombiev et al. (2019).
    """
    params = dict(
        noise_variance=noise_variance,
        bound=bound,
        adaptive=adaptive,
        relative_noise_variance=relative_noise_variance,
        chunk_size=chunk_size,
    )
    labels = labels.to(activations.device)
    point = _plane_bits(activations, labels, **params)
    result: PlaneResult = {
        q: {"mi_bits": point[q], "ci_low_bits": None, "ci_high_bits": None} for q in QUANTITIES
    }
    if not ci:
        return result
    n = activations.shape[1]
    b = check_positive_int(ci_resamples, "ci_resamples", minimum=2)
    m = int(round(ci_fraction * n))
    if not 2 <= m < n:
        raise ValueError(f"ci_fraction={ci_fraction} gives subsets of {m} of n={n} points; need 2 <= m < n")
    g = cpu_generator(seed)
    draws = {q: [] for q in QUANTITIES}
    for _ in range(b):
        idx = torch.randperm(n, generator=g)[:m].sort().values.to(activations.device)
        sub = _plane_bits(activations[:, idx], labels[idx], **params)
        for q in QUANTITIES:
            draws[q].append(sub[q])
    alpha = 1.0 - ci_level
    s = math.sqrt(m / (n - m))
    probs = torch.tensor([alpha / 2, 1 - alpha / 2], dtype=torch.float64, device=activations.device)
    for q in QUANTITIES:
        diffs = torch.stack(draws[q], dim=1) - point[q][:, None]  # (E, B)
        lo, hi = torch.quantile(diffs, probs, dim=1)
        result[q]["ci_low_bits"] = point[q] - s * hi
        result[q]["ci_high_bits"] = point[q] - s * lo
    return result


@register("kde", ci="subsample", labels_ok=True)
def kde_mi_bits(
    x: torch.Tensor,
    y: torch.Tensor,
    noise_variance: float = 0.1,
    bound: str = "upper",
    adaptive: bool = False,
    relative_noise_variance: float = 0.1,
    chunk_size: int | None = None,
) -> float:
    """Kolchinsky-Tracey kernel bound, in bits, for a noisy layer (Saxe et al. 2018).

    - y (n,) integer labels: I(T;Y) with T = x + Z, x (n, d) the noise-free layer.
    - y (n, d) floats: I(X; T) with T = y + Z, where y must be a deterministic function of x
      (a layer evaluated on the inputs x) and X is uniform over the n rows; x itself is not used.
    Z ~ N(0, noise_variance I), or relative_noise_variance x Var(T) when ``adaptive``.
    Not symmetric in (x, y) and not an estimator of I(X;Y) for independent samples.
    Reference: Kolchinsky & Tracey (2017), Entropy 19(7), 361.
    """
    params = dict(
        noise_variance=noise_variance,
        bound=bound,
        adaptive=adaptive,
        relative_noise_variance=relative_noise_variance,
        chunk_size=chunk_size,
    )
    if is_labels(y):
        return float(_plane_bits(x[None], y, **params)["I_TY"][0])
    return float(_plane_bits(y[None], None, **params)["I_XT"][0])
