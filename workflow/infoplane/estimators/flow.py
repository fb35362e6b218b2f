"""MIENF: mutual information through per-side normalising flows onto a Gaussian latent.

Butakov, Tolmachev, Malanchuk, Neopryatnaya & Frolov (2024), "Mutual information estimation via
normalizing flows", NeurIPS. An invertible map f of X and g of Y keeps I(X;Y). Train f and g so
that (f(X), g(Y)) is a Gaussian with standard normal marginals whose only cross terms pair latent
coordinate i of X with coordinate i of Y, corr = rho_i (their "tridiagonal" form: any Gaussian with
standard marginals can be rotated into it). The MI of that latent is -1/2 sum_i log(1 - rho_i^2).
Among all joints with given Gaussian marginals and cross-covariance the Gaussian has the least MI
(h(X, Y) <= the Gaussian entropy of its covariance), so the Gaussian formula applied to the real
latents is a lower bound on I(X;Y) as long as the latent marginals are Gaussian, and it is exact when
the flows make the whole latent Gaussian. It is not capped by log N as critic bounds are.

The steps, all fitted on a random ``train_fraction`` of the rows and evaluated on the rest:

1. Each side: standardise its columns, drop the empty principal axes (constant, duplicated or
   linearly dependent columns: an injective change, I is kept) and keep the leading ``components``
   axes (None: all of them up to ALL_UP_TO = 32 non-empty axes, else the leading 16; cheap and
   deterministic: layers and images lie near manifolds of few dimensions). Projecting can only lose
   information (data processing); it loses much where the dependence sits in axes of small
   variance (a sparse Gaussian of more than 32 dimensions; images of moving rectangles, where 16
   axes keep 0.12 of 4 bits).
2. Add isotropic Gaussian noise, ``noise`` times the standard deviation of the leading axis in every
   direction, independently on each side, and scale each axis to unit variance. Data on a
   manifold have no density in the projected space, and the Gaussian formula on a degenerate latent
   overestimates
   without bound (functions of the manifold coordinates correlate across sides: CCA of 16 principal
   axes of a 4-d tanh manifold at 8 bits gives 13.6 bits; noise of 0.05 of each whitened axis still
   left a 1-d manifold at 10 bits at 12-26 bits). Isotropic noise drowns the axes of small variance,
   where the curvature of a manifold lives, and leaves the leading ones almost intact; by data
   processing the target becomes I(PX + e; PY + e) <= I(X;Y). The default 0.02 cost about 0.1 bit at
   8 bits in 4 dimensions; 0.01 was less stable (a 1-d manifold at 10 bits: latents with excess
   kurtosis 100), 0.05 cost more (7.27 instead of 7.49 bits on the 8-bit task). Mapping each axis
   to its normal score before the flows was tried and dropped: it lost about 1 bit on circle sources
   (arcsine marginals) and on a 1-d tanh manifold at 6 bits, and gained on few tasks.
3. Per side a flow of ``blocks`` masked autoregressive layers (MAF, :mod:`.maf`) in principal-axis
   order, so the curvature axes are explained by the leading ones, then a learnable linear map.
   The latent correlations rho_i = tanh(theta_i) are learned with the flows by maximising the joint
   likelihood on the training rows with Adam, starting from the canonical correlations of the
   initial latents; training stops on the likelihood of a validation tenth of the training rows.
4. Report -1/2 sum_i log(1 - r_i^2) with r_i the correlation of the normal scores of held-out latent
   pair i (normal scores: a held-out row far outside the training rows, where a flow extrapolates
   badly, cannot dominate a correlation).

The result is a lower bound only while the latent marginals are Gaussian; ``mienf`` returns, with the
estimate, the largest absolute excess kurtosis and skewness of the held-out latents as a check
(about 0.3 at most for Gaussian latents of 2 x 16 coordinates and 1500 held-out rows). Known limits:
dependence that no Gaussian latent of these flows captures is missed (the Student-t pairs of the
suite, whose MI lies in a shared scale, give about 0); KSG is better on manifolds of 1-2 dimensions.

Interval (``ci="seeds"``, as the critics): each seed draws a new split, new noise, a new
initialisation and new batches, so the interval covers optimisation, split and noise-draw spread,
not the sampling of the data set nor the estimator's bias (the noise, the projection and an
imperfect flow all bias it low; a flow that fails on a degenerate latent can bias it high).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .base import NATS_TO_BITS, check_min_samples, check_positive_int, cpu_generator, register
from .maf import SideFlow
from .prepare import copula_scores

MIN_ROWS = 40
ALL_UP_TO = 32  # components=None: a side with at most this many non-empty axes keeps them all
DEFAULT_COMPONENTS = 16  # components=None: the leading axes kept of a side with more


def whiten(a: torch.Tensor, components: int | None, rows: torch.Tensor, name: str, noise: float = 0.0, generator=None):
    """a (n, d) -> (n, k) scores on the leading principal axes of the standardised columns, plus noise,
    each of unit variance, all fitted on ``rows``.

    Axes whose variance is at most 1e-9 of the largest are empty and dropped (constant, duplicated or
    linearly dependent columns). k: ``components`` at most; None keeps every non-empty axis when there
    are at most ALL_UP_TO of them, else the leading DEFAULT_COMPONENTS. The noise is isotropic in the
    space of the standardised columns, ``noise`` times the standard deviation of the leading axis in
    every direction (so an axis of small variance gets relatively more)."""
    a = a.to(torch.float64)
    a = a - a[rows].mean(dim=0)
    sd = a[rows].std(dim=0)
    varying = sd > 0
    if not bool(varying.any()):
        raise ValueError(f"{name}: every column is constant on the training rows; mienf needs a varying column")
    a = a[:, varying] / sd[varying]
    vals, vecs = torch.linalg.eigh(a[rows].T @ a[rows] / rows.numel())
    vals, vecs = vals.flip(0), vecs.flip(1)
    filled = int((vals > 1e-9 * vals[0]).sum())
    if components is None:
        components = filled if filled <= ALL_UP_TO else DEFAULT_COMPONENTS
    k = min(components, filled)
    u = a @ (vecs[:, :k] / vals[:k].sqrt())
    if noise > 0:
        rel = noise * (vals[0] / vals[:k]).sqrt()
        eps = torch.randn(u.shape, generator=generator, dtype=u.dtype).to(u.device)
        u = (u + rel.to(u.device) * eps) / (1 + rel.to(u.device) ** 2).sqrt()
    return u


def _canonical(zx: torch.Tensor, zy: torch.Tensor):
    """Canonical directions (ax, ay) and correlations s of two samples: zx @ ax, zy @ ay are paired."""
    zx, zy = zx - zx.mean(dim=0), zy - zy.mean(dim=0)
    n = zx.shape[0]

    def inv_sqrt(c):
        vals, vecs = torch.linalg.eigh(c)
        return vecs @ torch.diag(vals.clamp(min=1e-12).rsqrt()) @ vecs.T

    wx, wy = inv_sqrt(zx.T @ zx / n), inv_sqrt(zy.T @ zy / n)
    u, s, vh = torch.linalg.svd(wx @ (zx.T @ zy / n) @ wy)
    return wx @ u, wy @ vh.T, s


def pair_correlations(zx: torch.Tensor, zy: torch.Tensor) -> torch.Tensor:
    """Sample correlation of zx[:, i] with zy[:, i], i < min(dx, dy), in float64."""
    m = min(zx.shape[1], zy.shape[1])
    a, b = zx[:, :m].double(), zy[:, :m].double()
    a, b = a - a.mean(dim=0), b - b.mean(dim=0)
    return (a * b).sum(dim=0) / (a.norm(dim=0) * b.norm(dim=0)).clamp(min=1e-300)


def gaussian_pairs_nats(r: torch.Tensor) -> float:
    """-1/2 sum log(1 - r_i^2): the MI of a Gaussian with standard marginals and pair correlations r."""
    return float(-0.5 * torch.log1p(-(r.clamp(-1 + 1e-15, 1 - 1e-15) ** 2)).sum())


class _Joint(nn.Module):
    def __init__(self, dx: int, dy: int, blocks: int, hidden: int):
        super().__init__()
        self.fx, self.fy = SideFlow(dx, blocks, hidden), SideFlow(dy, blocks, hidden)
        self.m = min(dx, dy)
        self.theta = nn.Parameter(torch.zeros(self.m))

    def nll(self, ux: torch.Tensor, uy: torch.Tensor) -> torch.Tensor:
        """Mean negative log-likelihood (nats per row) of the pairs under the flows and the latent."""
        (zx, lx), (zy, ly) = self.fx(ux), self.fy(uy)
        m, rho = self.m, torch.tanh(self.theta)
        a, b, one = zx[:, :m], zy[:, :m], 1 - rho**2
        pairs = ((a * a - 2 * rho * a * b + b * b) / (2 * one) + 0.5 * torch.log(one)).sum(dim=1)
        rest = 0.5 * (zx[:, m:] ** 2).sum(dim=1) + 0.5 * (zy[:, m:] ** 2).sum(dim=1)
        const = 0.5 * math.log(2 * math.pi) * (zx.shape[1] + zy.shape[1])
        return (pairs + rest + const - lx - ly).mean()

    @torch.no_grad()
    def align(self, ux: torch.Tensor, uy: torch.Tensor) -> None:
        """Rotate the latents onto their canonical pairs (on these rows); rho from their correlations."""
        zx, zy = self.fx(ux)[0].double(), self.fy(uy)[0].double()
        ax, ay, s = _canonical(zx, zy)
        for flow, z, a in ((self.fx, zx, ax), (self.fy, zy, ay)):
            w = a.T @ flow.weight.double()
            flow.weight.copy_(w.to(flow.weight.dtype))
            flow.bias.copy_((a.T @ (flow.bias.double() - z.mean(dim=0))).to(flow.bias.dtype))
        self.theta.copy_(torch.atanh(s[: self.m].clamp(max=0.999)).to(self.theta.dtype))


def _check(a: torch.Tensor, name: str) -> torch.Tensor:
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2:
        raise ValueError(f"{name} must have shape (n, d) or (n,), got {tuple(a.shape)}")
    if not torch.is_floating_point(a):
        a = a.to(torch.float64)
    if not bool(torch.isfinite(a).all()):
        bad = int((~torch.isfinite(a)).sum())
        raise ValueError(f"{name} contains {bad} non-finite values (NaN or inf); mienf needs finite data")
    return a


def mienf(
    x: torch.Tensor,
    y: torch.Tensor,
    components: int | None = None,
    noise: float = 0.02,
    blocks: int = 2,
    hidden: int = 64,
    steps: int = 3000,
    batch_size: int = 512,
    lr: float = 5e-3,
    train_fraction: float = 0.7,
    patience: int = 10,
    seed: int = 0,
) -> tuple[float, dict]:
    """(estimate in bits, info) of the flow estimator (module docstring). Runs on x's device.

    x: (n, dx), y: (n, dy) floats. components: principal axes kept per side (None: from the data);
    noise: std of the isotropic noise, relative to the leading axis; blocks, hidden: MAF layers per side and their
    width; steps of Adam (lr) on batch_size rows; train_fraction: rows for fitting (a tenth of them
    for validation and early stopping after ``patience`` checks without improvement); seed: split,
    noise, initialisation and batches. info: dims kept, steps run, held-out log-likelihood, the
    initial Gaussian (CCA) estimate, per-pair correlations, and the latents' largest |excess
    kurtosis| and |skewness| (0 for a Gaussian; the estimate is a lower bound while they are small).
    """
    x, y = _check(x, "x"), _check(y, "y")
    n = x.shape[0]
    if y.shape[0] != n:
        raise ValueError(f"x and y must have the same number of rows, got {n} and {y.shape[0]}")
    check_min_samples(n, MIN_ROWS, "mienf")
    if components is not None:
        components = check_positive_int(components, "components")
    blocks = check_positive_int(blocks, "blocks")
    hidden = check_positive_int(hidden, "hidden")
    steps = check_positive_int(steps, "steps")
    batch_size = check_positive_int(batch_size, "batch_size", minimum=2)
    patience = check_positive_int(patience, "patience")
    if not (isinstance(noise, int | float) and math.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    if not (isinstance(lr, int | float) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a finite number > 0, got {lr!r}")
    if not 0.0 < train_fraction < 1.0:
        raise ValueError(f"train_fraction must lie strictly between 0 and 1, got {train_fraction!r}")
    device = x.device
    y = y.to(device)
    g = cpu_generator(seed)
    perm = torch.randperm(n, generator=g).to(device)
    n_train = min(max(int(round(train_fraction * n)), 20), n - 10)
    train, test = perm[:n_train], perm[n_train:]
    n_val = max(n_train // 10, 5)
    val, fit = train[:n_val], train[n_val:]
    ux, uy = whiten(x, components, train, "x", noise, g), whiten(y, components, train, "y", noise, g)
    initial = gaussian_pairs_nats(_canonical(ux[test], uy[test])[2])
    ux, uy = ux.to(torch.float32), uy.to(torch.float32)
    threads = torch.get_num_threads()
    if device.type == "cpu":  # small networks: intra-op threads cost more than they give (as for critics)
        torch.set_num_threads(1)
    try:
        with torch.random.fork_rng(devices=[] if device.type == "cpu" else [device]):
            torch.manual_seed(int(seed))
            model = _Joint(ux.shape[1], uy.shape[1], blocks, hidden).to(device)
        model.align(ux[train], uy[train])
        steps_run, val_nll = _train(model, ux, uy, fit, val, g, steps, batch_size, lr, patience)
        with torch.no_grad():
            zx, zy = model.fx(ux[test])[0].double(), model.fy(uy[test])[0].double()
            test_nll = float(model.nll(ux[test], uy[test]))
    finally:
        torch.set_num_threads(threads)
    r_raw = pair_correlations(zx, zy)
    r = pair_correlations(copula_scores(zx), copula_scores(zy))
    nats = gaussian_pairs_nats(r)
    z = torch.cat([zx, zy], dim=1)
    z = (z - z.mean(dim=0)) / z.std(dim=0).clamp(min=1e-12)
    info = dict(
        components_x=int(ux.shape[1]),
        components_y=int(uy.shape[1]),
        n_train=int(n_train),
        n_test=int(test.numel()),
        steps_run=steps_run,
        validation_nll_nats=val_nll,
        test_nll_nats=test_nll,
        initial_gaussian_bits=initial * NATS_TO_BITS,
        pair_correlations=[float(v) for v in r],
        pearson_bits=gaussian_pairs_nats(r_raw) * NATS_TO_BITS,
        max_abs_excess_kurtosis=float((z**4).mean(dim=0).sub(3).abs().max()),
        max_abs_skewness=float((z**3).mean(dim=0).abs().max()),
    )
    if not math.isfinite(nats):
        raise ValueError(f"mienf gave a non-finite estimate ({nats}); try a larger noise or fewer components")
    return nats * NATS_TO_BITS, info


def _train(model, ux, uy, fit, val, g, steps, batch_size, lr, patience) -> tuple[int, float]:
    """Adam on the joint negative log-likelihood; keep the parameters of the best validation check."""
    device = ux.device
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    b = min(batch_size, fit.numel())
    every = max(min(steps // 20, 50), 1)
    best, best_state, stale, step = math.inf, None, 0, 0
    for step in range(1, steps + 1):
        idx = fit[torch.randint(0, fit.numel(), (b,), generator=g).to(device)]
        loss = model.nll(ux[idx], uy[idx])
        if not torch.isfinite(loss):
            break  # keep the last good parameters
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 10.0)
        opt.step()
        if step % every == 0 or step == steps:
            with torch.no_grad():
                v = float(model.nll(ux[val], uy[val]))
            if math.isfinite(v) and v < best:
                best, stale = v, 0
                best_state = {k: t.detach().clone() for k, t in model.state_dict().items()}
            else:
                stale += 1
                if stale >= patience:
                    break
    if best_state is not None:
        model.load_state_dict(best_state)
    return step, best


@register("mienf", ci="seeds", labels_ok=False)
def mienf_mi_bits(
    x: torch.Tensor,
    y: torch.Tensor,
    components: int | None = None,
    noise: float = 0.02,
    blocks: int = 2,
    hidden: int = 64,
    steps: int = 3000,
    batch_size: int = 512,
    lr: float = 5e-3,
    train_fraction: float = 0.7,
    patience: int = 10,
    seed: int = 0,
) -> float:
    """MIENF estimate of I(X;Y) in bits (Butakov et al. 2024b): per-side PCA, noise, MAF flows onto a
    Gaussian latent with learned pair correlations, the Gaussian MI of the held-out latents.
    Parameters: :func:`mienf`; the check of the latents' Gaussianity comes with :func:`mienf` only."""
    settings = dict(components=components, noise=noise, blocks=blocks, hidden=hidden, steps=steps)
    settings.update(batch_size=batch_size, lr=lr, train_fraction=train_fraction, patience=patience, seed=seed)
    return mienf(x, y, **settings)[0]
