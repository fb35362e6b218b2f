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

import numpy as np
import torch

from .base import (
    CPU_BLOCK_ELEMENTS,
    GPU_BLOCK_ELEMENTS,
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
PRECISIONS = {"float32": torch.float32, "float64": torch.float64}
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
    precision: str = "float32",
    n_query: int | None = None,
    seed: int = 0,
    chunk_size: int | None = None,
) -> dict[str, torch.Tensor]:
    """Kernel bounds of I(X;T) and, with labels, I(T;Y) in nats at every epoch.

    t: (E, n, d) activations (the noise-free layer); labels: (n,) integers or None.
    Returns {"I_XT": (E,)} and, with labels, "I_TY": (E,), float64.

    precision: ``float32`` (the fast default; activations are centred and scaled in float64
    first, and a kernel value's log is then exact to about 1e-7 x |t|^2 / s^2) or ``float64``.
    n_query: the bounds are means over the n points i of a per-point term
    -log 1/n sum_j K(h_i, h_j); with ``n_query`` < n that mean is taken over a seeded random
    subset of i (the same at every epoch), while the mixture keeps all n components. The subset
    is stratified by class and each class's points are weighted by its share of all n, so the
    estimate is an unbiased Monte Carlo estimate of the full bound, n / n_query times cheaper,
    and I(T;Y) carries no noise from the class proportions of the subset.
    An I(T;Y) near zero (a layer with no label information yet) may then come out slightly
    negative, within that Monte Carlo error of zero; it is returned as computed, since a clamp would
    bias means upward (float32 is not the cause: float64 moves it by about 1e-8 bits).
    When every point is a query point, the kernel matrix is symmetric and only its blocks on and
    above the diagonal are computed (:func:`_class_sums_symmetric`); an explicit ``chunk_size``
    (rows per block) keeps the row-block path, which gives the same values up to float summation order.
    """
    check_choice(bound, "bound", BOUNDS)
    dtype = PRECISIONS[check_choice(precision, "precision", PRECISIONS)]
    if t.ndim != 3:
        raise ValueError(f"activations must have shape (epoch, sample, unit), got {tuple(t.shape)}")
    E, n, _ = t.shape
    check_min_samples(n, 2, "the kernel-density bounds")
    t = t.to(torch.float64)
    t = t - t.mean(dim=1, keepdim=True)
    var = _noise_variance(t, noise_variance, adaptive, relative_noise_variance) * _VARIANCE_FACTOR[bound]
    # Scaled so that the log-kernel is -|u_i - u_j|^2 = [u_i, -|u_i|^2, 1] . [2 u_j, 1, -|u_j|^2]:
    # one batched product gives it, with no (E, rows, n) temporaries besides the result.
    u = t / torch.sqrt(2.0 * var)[:, None, None]
    sq = (u * u).sum(dim=2, keepdim=True)
    left = torch.cat([u, -sq, torch.ones_like(sq)], dim=2).to(dtype)  # (E, n, d + 2)
    right = torch.cat([2.0 * u, torch.ones_like(sq), -sq], dim=2).to(dtype).transpose(1, 2)  # (E, d + 2, n)
    if labels is None:
        cls = torch.zeros(n, dtype=torch.int64, device=t.device)
    else:
        if labels.ndim != 1 or labels.shape[0] != n:
            raise ValueError(f"labels must have shape ({n},), got {tuple(labels.shape)}")
        _, cls = torch.unique(labels.to(t.device), return_inverse=True)
    counts = torch.bincount(cls)
    query = _query_points(cls, n_query, seed)
    m = len(query)
    if m == n and chunk_size is None:
        class_sums = _class_sums_symmetric(left, right, cls, len(counts))  # (E, n, C)
        log_all = class_sums.sum(dim=2).log()
        log_class = class_sums.gather(2, cls[None, :, None].expand(E, -1, 1)).squeeze(2).log()
    else:
        log_all, log_class = _class_sums_rows(left[:, query], right, cls, query, len(counts), chunk_size)
    # Query point i of class c stands for n_c / |query in c| points: weights p_c / |query in c|,
    # which are 1/n each when every point is a query point.
    q_counts = torch.bincount(cls[query], minlength=len(counts)).to(torch.float64)
    weights = (counts.to(torch.float64) / n / q_counts)[cls[query]]  # (m,), sums to 1
    h_all = -(log_all - math.log(n)) @ weights  # (E,) = I(X;T) bound
    out = {"I_XT": h_all}
    if labels is not None:
        per_point = -(log_class - torch.log(counts[cls[query]].to(torch.float64)))  # (E, m)
        out["I_TY"] = h_all - per_point @ weights  # H(T) - sum_c p_c H(T | Y = c)
    return out


def _class_sums_rows(left, right, cls, query, n_classes, chunk_size):
    """log sum_j K_ij over all j and over j in i's class, for the query rows i: two (E, m) float64 tensors.

    left: (E, m, d + 2), the query rows; right: (E, d + 2, n). Rows are taken in blocks of all epochs.
    """
    E, m, _ = left.shape
    n = right.shape[2]
    # Row sums over each class's columns are matrix-vector products (K @ class mask), which are much
    # faster than reductions over masked copies; the total is their sum.
    masks = [(cls == c).to(left.dtype) for c in range(n_classes)]
    log_all = torch.empty((E, m), dtype=torch.float64, device=left.device)
    log_class = torch.empty_like(log_all)
    for rows in row_chunks(m, E * n, chunk_size, device=left.device):
        # K_ij = exp(-|u_i - u_j|^2) <= 1 with K_ii = 1, so the sums below are >= 1 and need no
        # max-shift for a stable log. Terms below exp(-80) are raised to it (each adds < 2e-35 to a
        # sum >= 1): exp is several times slower on arguments whose result underflows.
        kernel = torch.bmm(left[:, rows], right).clamp_(min=-80.0).exp_()  # (E, rows, n)
        class_sums = torch.stack([kernel @ mask for mask in masks], dim=2).to(torch.float64)  # (E, rows, C)
        log_all[:, rows] = class_sums.sum(dim=2).log()
        own = cls[query[rows]][None, :, None].expand(E, -1, 1)
        log_class[:, rows] = class_sums.gather(2, own).squeeze(2).log()
    return log_all, log_class


def _class_sums_symmetric(left, right, cls, n_classes, block=None, budget=None, engine=None):
    """sum_j K_ij over the j of each class, for every point i: (E, n, C) float64.

    left: (E, n, d + 2); right: (E, d + 2, n). Every point is a query point, so K is symmetric and
    only the square blocks on and above the diagonal are computed: block (I, J) gives its row sums
    to the points of I and its column sums to those of J. That halves the kernel evaluations, and
    blocks of ``block`` x ``block`` for a few epochs at a time stay in cache, which the (E, rows, n)
    blocks of :func:`_class_sums_rows` do not: about 3x faster on CPU for the 4096 patterns of the
    12-bit task.

    engine: ``numpy`` (the default on CPU: :func:`_class_sums_symmetric_numpy`) or ``torch`` (the
    default elsewhere; points sorted by class, so a class is a contiguous range of columns).
    """
    engine = engine or ("numpy" if left.device.type == "cpu" else "torch")
    if engine == "numpy":
        return _class_sums_symmetric_numpy(left, right, cls, n_classes, block or 256, budget or CPU_BLOCK_ELEMENTS)
    E, n, _ = left.shape
    on_gpu = left.device.type != "cpu"
    block = block or (1024 if on_gpu else 256)
    budget = budget or (GPU_BLOCK_ELEMENTS if on_gpu else CPU_BLOCK_ELEMENTS)
    order = torch.argsort(cls, stable=True)
    left, right = left[:, order], right[:, :, order]
    ends = torch.cumsum(torch.bincount(cls, minlength=n_classes), 0).tolist()
    starts = [0] + ends[:-1]
    blocks = [(a, min(a + block, n)) for a in range(0, n, block)]
    # For each block, the classes it holds as (class, first, last + 1) in block-local indices.
    classes = list(enumerate(zip(starts, ends, strict=True)))
    parts = [[(c, max(a, s) - a, min(b, e) - a) for c, (s, e) in classes if max(a, s) < min(b, e)] for a, b in blocks]
    sums = torch.empty((E, n, n_classes), dtype=torch.float64, device=left.device)
    epochs_per_step = max(1, budget // (block * block))
    for e0 in range(0, E, epochs_per_step):
        ep = slice(e0, min(E, e0 + epochs_per_step))
        acc = torch.zeros((ep.stop - ep.start, n, n_classes), dtype=left.dtype, device=left.device)
        for i, (a, b) in enumerate(blocks):
            for j in range(i, len(blocks)):
                c0, c1 = blocks[j]
                # K_ij <= 1 with K_ii = 1: the sums are >= 1 and need no max-shift for a stable
                # log. Terms below exp(-80) are raised to it (each adds < 2e-35 to a sum >= 1):
                # exp is several times slower on arguments whose result underflows.
                kernel = torch.bmm(left[ep, a:b], right[ep, :, c0:c1]).clamp_(min=-80.0).exp_()
                for c, lo, hi in parts[j]:
                    acc[:, a:b, c] += kernel[:, :, lo:hi].sum(dim=2)
                if j != i:
                    for c, lo, hi in parts[i]:
                        acc[:, c0:c1, c] += kernel[:, lo:hi, :].sum(dim=1)
        sums[ep] = acc.to(torch.float64)
    return sums[:, torch.argsort(order)]


def _class_sums_symmetric_numpy(left, right, cls, n_classes, block, budget):
    """:func:`_class_sums_symmetric` in numpy, over each epoch's distinct points: (E, n, C) float64.

    Two things make it about 2-3x faster than the torch blocks on CPU, with the same sums up to
    float summation order:

    - numpy's SIMD ``exp`` is 2x faster than torch's on the CPUs we measured, and it needs no clamp
      of its arguments (torch's exp is 30x slower where its result underflows; numpy's is not, and
      the BLAS products below are not slowed by the subnormal results);
    - points with identical activations (saturated tanh units, dead ReLU units: a trained ReLU
      network of the 12-bit task has 2000-3000 distinct points of 4096 in its upper layers) are
      one kernel row and column, counted by a (distinct points, C) matrix of class counts. Row
      sums are then products ``K @ counts``, a BLAS call rather than reductions over slices.

    Epochs go a few at a time (``budget`` kernel elements per block step), those with numbers of
    distinct points within 10% of one another, padded to the most: padded points have zero
    counts, so they add nothing to any sum.
    """
    L, R = left.cpu().numpy(), right.cpu().numpy()
    E, n, k = L.shape
    labels = cls.cpu().numpy()
    dtype = L.dtype
    # each epoch's distinct rows of left (equal activations give equal rows), and the map back
    row_type = np.dtype((np.void, dtype.itemsize * k))
    firsts, inverses = [], []
    for e in range(E):
        rows = np.ascontiguousarray(L[e]).view(row_type).ravel()
        _, first, inverse = np.unique(rows, return_index=True, return_inverse=True)
        firsts.append(first)
        inverses.append(inverse.ravel())
    sums = np.empty((E, n, n_classes), dtype=np.float64)
    epochs_per_step = max(1, budget // (block * block))
    e0 = 0
    while e0 < E:
        # consecutive epochs whose numbers of distinct points are within 10% of one another
        low = high = len(firsts[e0])
        e1 = e0 + 1
        while e1 < E and e1 - e0 < epochs_per_step:
            size = len(firsts[e1])
            if max(high, size) > 1.1 * min(low, size):
                break
            low, high = min(low, size), max(high, size)
            e1 += 1
        steps, width = e1 - e0, high
        lp = np.zeros((steps, width, k), dtype=dtype)
        rp = np.zeros((steps, k, width), dtype=dtype)
        counts = np.zeros((steps, width, n_classes), dtype=dtype)
        for s, e in enumerate(range(e0, e1)):
            first = firsts[e]
            lp[s, : len(first)] = L[e, first]
            rp[s, :, : len(first)] = R[e][:, first]
            counts[s, : len(first)] = np.bincount(
                inverses[e] * n_classes + labels, minlength=len(first) * n_classes
            ).reshape(len(first), n_classes)
        acc = np.zeros((steps, width, n_classes), dtype=dtype)
        blocks = [(a, min(a + block, width)) for a in range(0, width, block)]
        kernel_buffer = np.empty((steps, block, block), dtype=dtype)
        for i, (a, b) in enumerate(blocks):
            for c0, c1 in blocks[i:]:
                kernel = kernel_buffer[:, : b - a, : c1 - c0]
                np.matmul(lp[:, a:b], rp[:, :, c0:c1], out=kernel)
                # K_ij = exp(-|u_i - u_j|^2) <= 1 with K_ii = 1: the sums are >= 1 and need no max-shift
                np.exp(kernel, out=kernel)
                acc[:, a:b] += np.matmul(kernel, counts[:, c0:c1])
                if c0 != a:
                    acc[:, c0:c1] += np.matmul(kernel.transpose(0, 2, 1), counts[:, a:b])
        for s, e in enumerate(range(e0, e1)):
            sums[e] = acc[s, inverses[e]]
        e0 = e1
    return torch.from_numpy(sums).to(left.device)


def _query_points(cls: torch.Tensor, n_query: int | None, seed: int) -> torch.Tensor:
    """All point indices, or a seeded sorted subset of about ``n_query``, stratified by class.

    cls: (n,) class indices 0..C-1. Class c gives max(1, round(n_query x n_c / n)) of its points.
    """
    n = len(cls)
    if n_query is None or n_query >= n:
        return torch.arange(n, device=cls.device)
    check_positive_int(n_query, "n_query")
    g = cpu_generator(seed)
    picked = []
    for c, n_c in enumerate(torch.bincount(cls).tolist()):
        members = torch.nonzero(cls.cpu() == c).flatten()
        take = min(n_c, max(1, round(n_query * n_c / n)))
        picked.append(members[torch.randperm(n_c, generator=g)[:take]])
    return torch.cat(picked).sort().values.to(cls.device)


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
    precision: str = "float32",
    n_query: int | None = None,
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
        precision=precision,
        n_query=n_query,
        seed=seed,
        chunk_size=chunk_size,
    )
    labels = labels.to(activations.device)
    point = _plane_bits(activations, labels, **params)
    result: PlaneResult = {q: {"mi_bits": point[q], "ci_low_bits": None, "ci_high_bits": None} for q in QUANTITIES}
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
    precision: str = "float32",
    n_query: int | None = None,
    seed: int = 0,
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
        precision=precision,
        n_query=n_query,
        seed=seed,
        chunk_size=chunk_size,
    )
    if is_labels(y):
        return float(_plane_bits(x[None], y, **params)["I_TY"][0])
    return float(_plane_bits(y[None], None, **params)["I_XT"][0])
