"""MI of stochastic representations by Monte Carlo over the exact mixture (Kawaguchi et al. 2023).

A stochastic encoder gives each input x_i a Gaussian p(z | x_i) = N(loc_i, diag(scale_i^2)).
With X uniform over the M rows, p(z) = 1/M sum_j p(z | x_j) is an exact mixture, so with
z_i ~ p(z | x_i) (``n_draws`` per row)

    I(X;Z)   = mean_i [log p(z_i | x_i) - log 1/M sum_j p(z_i | x_j)]
    I(X;Z|Y) = sum_y p(y) I(X;Z | Y=y) = mean_i [log p(z_i | x_i) - log 1/M_y sum_{j: y_j = y_i} p(z_i | x_j)]
    I(Z;Y)   = I(X;Z) - I(X;Z|Y) = mean_i [log p_{y_i}(z_i) - log p(z_i)]   (Y - X - Z is a Markov chain)

are unbiased Monte Carlo estimates (p(y) the class shares of the rows), each term computed with
logsumexp; results are in bits. I(X;Z) <= log2 M and I(X;Z|Y) <= log2 max_y M_y, since X is
uniform over the rows.

The noise-injected form of a deterministic layer (the paper's CIFAR models) is the same
computation with loc = the activations and scale = sigma, a constant: T + N(0, sigma^2 I).
:func:`select_noise_scales` picks sigma per layer from a grid by the held-out log-likelihood of
that mixture, with I(X;T) made non-increasing in depth.

Everything is batched over the (draws x rows) query points in row blocks, in torch on any device.
"""

from __future__ import annotations

import math

import torch

from .base import NATS_TO_BITS, check_positive_int, cpu_generator, register, row_chunks
from .plane import PlaneResult, register_plane

STOCHASTIC_QUANTITIES = ("I_XT", "I_TY", "I_XT_given_Y")  # I(X;Z), I(Z;Y), I(X;Z|Y), Z the layer's sample


def gaussian_log_density(z: torch.Tensor, loc: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """log N(z_q; loc_j, diag(scale_j^2)) for every pair: z (Q, d), loc and scale (M, d) -> (Q, M) in nats.

    Uses sum_d (z - mu)^2 / s^2 = z^2 . w - 2 z . (mu w) + mu^2 . w with w = 1 / s^2: two matrix products.
    """
    w = scale.reciprocal().square()
    quad = z.square() @ w.T - 2.0 * z @ (loc * w).T + (loc.square() * w).sum(dim=1)
    log_norm = scale.log().sum(dim=1) + 0.5 * loc.shape[1] * math.log(2 * math.pi)
    return -0.5 * quad.clamp_min(0.0) - log_norm


def mi_terms_nats(
    loc: torch.Tensor,
    scale: torch.Tensor,
    labels: torch.Tensor | None = None,
    n_draws: int = 1,
    seed: int = 0,
    chunk_size: int | None = None,
) -> dict[str, torch.Tensor]:
    """Per-draw terms of the Monte Carlo estimates, in nats.

    loc, scale: (M, d), scale > 0; labels: (M,) integers or None. Returns {"I_XT": (K*M,)} and, with
    labels, "I_XT_given_Y" and "I_TY" (K*M,): their means are the estimates (K = n_draws).
    """
    m, d = loc.shape
    n_draws = check_positive_int(n_draws, "n_draws")
    if scale.shape != loc.shape:
        raise ValueError(f"loc and scale must have the same shape, got {tuple(loc.shape)} and {tuple(scale.shape)}")
    if not bool((scale > 0).all()):
        raise ValueError("scale must be > 0 everywhere (a Gaussian layer's standard deviation)")
    eps = torch.randn((n_draws, m, d), generator=cpu_generator(seed), dtype=torch.float64).to(loc.device)
    z = (loc + scale * eps.to(loc.dtype)).reshape(n_draws * m, d)
    own = torch.arange(m, device=loc.device).repeat(n_draws)  # row i of z was drawn from x_{own[i]}
    out: dict[str, list[torch.Tensor]] = {"I_XT": []}
    if labels is not None:
        classes, y = torch.unique(labels, return_inverse=True)
        counts = torch.bincount(y, minlength=len(classes)).to(loc.dtype)
        out["I_XT_given_Y"], out["I_TY"] = [], []
    for rows in row_chunks(n_draws * m, m, chunk_size, device=loc.device):
        logp = gaussian_log_density(z[rows], loc, scale)  # (Q, M)
        own_logp = logp.gather(1, own[rows, None])[:, 0]
        log_marginal = torch.logsumexp(logp, dim=1) - math.log(m)
        out["I_XT"].append(own_logp - log_marginal)
        if labels is not None:
            yi = y[own[rows]]
            same = yi[:, None] == y[None, :]
            log_class = torch.logsumexp(logp.masked_fill(~same, -math.inf), dim=1) - counts[yi].log()
            out["I_XT_given_Y"].append(own_logp - log_class)
            out["I_TY"].append(log_class - log_marginal)
    return {q: torch.cat(v) for q, v in out.items()}


def stochastic_mi_bits(
    loc: torch.Tensor,
    scale: torch.Tensor,
    labels: torch.Tensor | None = None,
    n_draws: int = 1,
    seed: int = 0,
    chunk_size: int | None = None,
) -> dict[str, float]:
    """I(X;Z), and with labels I(X;Z|Y) and I(Z;Y), in bits, for X uniform over the rows.

    loc, scale: (M, d) the Gaussian p(z | x_i) of each row; labels: (M,) integers or None.
    Keys: "I_XT", "I_XT_given_Y", "I_TY" (the information-plane names, T the sampled layer).
    """
    terms = mi_terms_nats(loc, scale, labels, n_draws, seed, chunk_size)
    return {q: float(v.mean()) * NATS_TO_BITS for q, v in terms.items()}


def stochastic_plane(
    loc: torch.Tensor,
    scale: torch.Tensor,
    labels: torch.Tensor,
    n_draws: int = 1,
    seed: int = 0,
    ci: bool = True,
    ci_resamples: int = 20,
    ci_fraction: float = 0.5,
    ci_level: float = 0.95,
    chunk_size: int | None = None,
) -> PlaneResult:
    """The three quantities at every epoch, in bits, with subsampling intervals over rows.

    loc, scale: (E, M, d); labels: (M,). Returns {quantity: {"mi_bits": (E,), "ci_low_bits",
    "ci_high_bits": (E,) or None}}. The interval is the basic subsampling interval of
    :mod:`infoplane.estimators.intervals` (``ci_resamples`` subsets of ``ci_fraction`` x M rows,
    the same subsets at every epoch); it takes the shrinking of I(X;Z) <= log2 M with M into
    account, which is a property of the estimand (X uniform over the rows), not noise.
    """
    from .intervals import subsample_interval

    result = {q: {"mi_bits": [], "ci_low_bits": [], "ci_high_bits": []} for q in STOCHASTIC_QUANTITIES}
    for e in range(loc.shape[0]):
        point = stochastic_mi_bits(loc[e], scale[e], labels, n_draws, seed, chunk_size)
        for q in STOCHASTIC_QUANTITIES:
            result[q]["mi_bits"].append(point[q])
            low = high = float("nan")
            if ci:
                x = torch.cat([loc[e], scale[e]], dim=1)
                low, high, _ = subsample_interval(
                    _stochastic, x, labels, point[q], n_resamples=ci_resamples, fraction=ci_fraction,
                    level=ci_level, subset_seed=seed, quantity=q, n_draws=n_draws, seed=seed,
                )  # fmt: skip
            result[q]["ci_low_bits"].append(low)
            result[q]["ci_high_bits"].append(high)
    return {
        q: {k: (torch.tensor(v, dtype=torch.float64) if ci or k == "mi_bits" else None) for k, v in cols.items()}
        for q, cols in result.items()
    }


@register("stochastic", ci="subsample", labels_ok=True)
def _stochastic(x, y, quantity: str = "I_XT_given_Y", n_draws: int = 1, seed: int = 0, chunk_size=None) -> float:
    """The registry form. NOTE: x is not X. x: (n, 2d) each row's encoder [loc | scale]; y: (n,) labels.

    X is uniform over the n rows; returns ``quantity`` (I_XT = I(X;Z), I_XT_given_Y, I_TY) in bits.
    """
    if quantity not in STOCHASTIC_QUANTITIES:
        raise ValueError(f"quantity must be one of {STOCHASTIC_QUANTITIES}, got {quantity!r}")
    if x.shape[1] % 2:
        raise ValueError(f"x must hold [loc | scale], an even number of columns, got {x.shape[1]}")
    d = x.shape[1] // 2
    labels = y if y.ndim == 1 and not torch.is_floating_point(y) else None
    if labels is None and quantity != "I_XT":
        raise ValueError(f"{quantity} needs integer class labels as y")
    return stochastic_mi_bits(x[:, :d], x[:, d:], labels, n_draws, seed, chunk_size)[quantity]


@register("noise_injected", ci="subsample", labels_ok=True)
def _noise_injected(x, y, sigma: float = 0.1, quantity: str = "I_XT", n_draws: int = 1, seed: int = 0) -> float:
    """The registry form. NOTE: x is not X. x: (n, d) a deterministic layer's activations T; y: (n,) labels.

    Returns ``quantity`` of T + N(0, sigma^2 I) for X uniform over the rows, in bits.
    """
    if not sigma > 0:
        raise ValueError(f"sigma must be > 0, got {sigma}")
    labels = y if y.ndim == 1 and not torch.is_floating_point(y) else None
    return stochastic_mi_bits(x, torch.full_like(x, float(sigma)), labels, n_draws, seed)[quantity]


def estimation_rows(
    n: int, split: str = "train", is_train: torch.Tensor | None = None, max_samples: int | None = None, seed: int = 0
) -> torch.Tensor:
    """The rows X is uniform over: ``split`` "train" (needs ``is_train`` (n,) bool), "test" or "all",
    then a seeded subset of ``max_samples`` of them (sorted) when there are more. Returns (M,) indices."""
    if split not in ("train", "test", "all"):
        raise ValueError(f"split must be 'train', 'test' or 'all', got {split!r}")
    if split == "all":
        rows = torch.arange(n)
    else:
        if is_train is None:
            raise ValueError(f"split={split!r} needs is_train (the dataset's training rows)")
        mask = is_train.cpu().bool()
        rows = torch.nonzero(mask if split == "train" else ~mask)[:, 0]
    if max_samples is not None and len(rows) > max_samples:
        keep = torch.randperm(len(rows), generator=cpu_generator(seed))[
            : check_positive_int(max_samples, "max_samples")
        ]
        rows = rows[keep.sort().values]
    if len(rows) < 2:
        raise ValueError(f"split={split!r} leaves {len(rows)} rows; need at least 2")
    return rows


@register_plane("stochastic")
def _stochastic_layer_plane(
    activations,
    inputs,
    labels,
    n_draws: int = 1,
    seed: int = 0,
    split: str = "train",
    max_samples: int | None = None,
    is_train=None,
    quantity=None,  # noqa: ARG001  (the registry form's; the plane gives every quantity)
    chunk_size=None,
    **ci,
) -> PlaneResult:
    """The plane of a Gaussian layer: activations (E, n, 2d) are [loc | scale] at every epoch; labels (n,)."""
    d = activations.shape[2] // 2
    rows = estimation_rows(activations.shape[1], split, is_train, max_samples, seed).to(activations.device)
    act = activations[:, rows]
    return stochastic_plane(act[..., :d], act[..., d:], labels[rows], n_draws, seed, chunk_size=chunk_size, **ci)


@register_plane("noise_injected")
def noise_injected_plane(
    activations,
    inputs,
    labels,
    sigma: float = 0.1,
    n_draws: int = 1,
    seed: int = 0,
    split: str = "train",
    max_samples: int | None = None,
    is_train=None,
    quantity=None,  # noqa: ARG001
    **ci,
) -> PlaneResult:
    """I(X;T), I(T;Y) and I(X;T|Y) of T + N(0, sigma^2 I) at every epoch: activations (E, n, d), labels (n,)."""
    if not sigma > 0:
        raise ValueError(f"sigma must be > 0, got {sigma}")
    rows = estimation_rows(activations.shape[1], split, is_train, max_samples, seed).to(activations.device)
    act = activations[:, rows]
    return stochastic_plane(act, torch.full_like(act, float(sigma)), labels[rows], n_draws, seed, **ci)


def heldout_log_likelihood(train: torch.Tensor, heldout: torch.Tensor, sigma: float) -> float:
    """Mean log-density (nats per point) of ``heldout`` (m, d) under 1/M sum_j N(train_j, sigma^2 I), train (M, d)."""
    scale = torch.full_like(train, float(sigma))
    logp = gaussian_log_density(heldout.to(train.dtype), train, scale)
    return float((torch.logsumexp(logp, dim=1) - math.log(train.shape[0])).mean())


def select_noise_scales(
    train_layers: list[torch.Tensor],
    heldout_layers: list[torch.Tensor],
    grid: list[float],
    n_draws: int = 1,
    seed: int = 0,
) -> tuple[list[float], list[float]]:
    """Per layer, the noise std sigma for the noise-injected form, and the resulting I(X;T) in bits.

    train_layers[l]: (M, d_l) the layer on the rows X is uniform over; heldout_layers[l]: (m, d_l)
    the layer on held-out rows. Layer l takes the sigma of ``grid`` with the highest held-out
    log-likelihood; where that gives more I(X;T) than layer l-1 kept (the data-processing
    inequality a Markov chain of layers obeys), it takes the smallest larger sigma of the grid that
    does not (the largest when none does). Returns (sigmas, I(X;T) in bits), one per layer.
    """
    grid = sorted(float(s) for s in grid)
    if not grid or grid[0] <= 0:
        raise ValueError(f"grid must hold positive noise scales, got {grid}")
    sigmas, mis = [], []
    for train, heldout in zip(train_layers, heldout_layers, strict=True):
        best = max(grid, key=lambda s: heldout_log_likelihood(train, heldout, s))

        def mi(s: float, train=train) -> float:
            return stochastic_mi_bits(train, torch.full_like(train, s), None, n_draws, seed)["I_XT"]

        chosen, value = best, mi(best)
        if mis and value > mis[-1]:
            for s in (s for s in grid if s > best):
                chosen, value = s, mi(s)
                if value <= mis[-1]:
                    break
        sigmas.append(chosen)
        mis.append(value)
    return sigmas, mis
