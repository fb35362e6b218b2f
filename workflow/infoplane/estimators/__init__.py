"""infoplane.estimators: mutual-information estimators in torch, usable on their own.

    >>> from infoplane.estimators import estimate
    >>> r = estimate("binning", x, y, bins=30)
    >>> r.mi_bits, r.ci_low_bits, r.ci_high_bits

Every method takes numpy arrays or torch tensors on any device and returns an
:class:`MIEstimate` in bits. ``device="auto"`` uses the GPU when one is present.
"""

from __future__ import annotations

import math
import time

from . import (  # noqa: F401  (importing registers them)
    auto,
    binning,
    compression,
    flow,
    gaussian,
    kde,
    knn,
    learned_compression,
    renyi,
    tcopula,
    variational,
    wkl,
)
from .base import ESTIMATORS, MIEstimate, NonFiniteEstimate, as_tensor, check_positive_int, register, resolve_device
from .intervals import accepts_seed, seed_interval, subsample_interval
from .plane import PLANE_METHODS, QUANTITIES, information_plane, register_plane
from .prepare import MARGINALS, prepare_marginals
from .protocol import extrapolate
from .stochastic import STOCHASTIC_QUANTITIES  # noqa: F401  (registers stochastic, noise_injected)

# isort: split
from .. import measures  # noqa: F401  (registers dsmi and cs_qmi; last: they import the modules above)

__all__ = [
    "ESTIMATORS",
    "MARGINALS",
    "MIEstimate",
    "NonFiniteEstimate",
    "PLANE_METHODS",
    "QUANTITIES",
    "estimate",
    "information_plane",
    "register",
    "register_plane",
    "resolve_device",
]


def estimate(
    method: str,
    x,
    y,
    *,
    device="auto",
    ci: bool = True,
    ci_resamples: int | None = None,
    ci_fraction: float = 0.5,
    ci_level: float = 0.95,
    seed: int = 0,
    marginals: str = "none",
    protocol: bool = False,
    protocol_max_gamma: int = 10,
    **params,
) -> MIEstimate:
    """Estimate I(X;Y) in bits with ``method`` and its ``params``, with a confidence interval.

    x: (n, dx) or (n,) floats; y: (n, dy), (n,) floats, or (n,) integer class labels; numpy
    arrays or torch tensors on any device. device: ``"auto"`` (CUDA when present), ``"cpu"``,
    ``"cuda:0"``...; the computation runs there.
    ci: attach a nominal ``ci_level`` interval (see :mod:`infoplane.estimators.intervals`):
    subsampling without replacement (``ci_resamples`` subsets, default 20, of ``ci_fraction``
    x n rows) for kNN, kernel, binning, Gaussian and Renyi methods; ``ci_resamples`` critic
    seeds (default 5) for variational ones, whose point estimate is then the mean over seeds;
    a parametric bootstrap (``ci_resamples`` samples, default 20) from the fitted t copula for
    ``tcopula``.
    seed: seeds every random choice (subsets, jitter, critics); same seed, same result on CPU.
    marginals: ``"none"``, ``"standardize"`` or ``"copula"``: the MI-preserving step of
    :mod:`infoplane.estimators.prepare`, applied to x and y (not to labels) before any method.
    protocol: run the reliability protocol of :mod:`infoplane.estimators.protocol` (Abdelaleem et
    al. 2025) on 1..``protocol_max_gamma`` disjoint chunks instead of ``ci``: the estimate is the
    extrapolation to infinite data, its interval that of the intercept, and the result's
    ``reliable`` flag and ``diagnostics`` say whether the check passed and why.
    ``method="auto"`` chooses the method from the data (:mod:`infoplane.estimators.auto`).
    """
    if method not in ESTIMATORS:
        raise ValueError(f"unknown estimator method {method!r}; known: {sorted(ESTIMATORS)}")
    spec = ESTIMATORS[method]
    dev = resolve_device(device)
    start = time.perf_counter()
    xt = as_tensor(x, "x", dev)
    yt = as_tensor(y, "y", dev, labels_ok=spec.labels_ok)
    if xt.shape[0] != yt.shape[0]:
        raise ValueError(f"x and y must have the same number of samples, got {xt.shape[0]} and {yt.shape[0]}")
    if not 0.0 < ci_level < 1.0:
        raise ValueError(f"ci_level must lie strictly between 0 and 1, got {ci_level}")
    xt, yt = prepare_marginals(xt, marginals), prepare_marginals(yt, marginals)
    if method == "auto":
        return auto.estimate_auto(
            estimate,
            xt,
            yt,
            start=start,
            device=dev,
            ci=ci,
            ci_level=ci_level,
            seed=seed,
            marginals=marginals,
            protocol=protocol,
            protocol_max_gamma=protocol_max_gamma,
            **params,
        )
    fn_params = dict(params)
    if accepts_seed(spec.fn):
        fn_params["seed"] = seed
    low = high = None
    reliable, diagnostics = None, {}
    record = dict(params)
    if marginals != "none":
        record["marginals"] = marginals
    if protocol:
        mi, low, high, reliable, diagnostics = extrapolate(
            lambda a, b: spec.fn(a, b, **fn_params), xt, yt, max_gamma=protocol_max_gamma, level=ci_level, seed=seed
        )
        record.update(protocol=True, protocol_max_gamma=protocol_max_gamma, ci_level=ci_level)
    elif ci and spec.ci == "seeds":
        s = 5 if ci_resamples is None else ci_resamples
        if s < 2:
            raise ValueError(f"ci_resamples must be >= 2 for seed intervals, got {s}")
        values = [float(spec.fn(xt, yt, **{**fn_params, "seed": seed + i})) for i in range(s)]
        mi, low, high = seed_interval(values, ci_level)
        record.update(ci="seeds", ci_resamples=s, ci_level=ci_level)
    else:
        mi = float(spec.fn(xt, yt, **fn_params))
        if ci and spec.ci == "subsample":
            b = 20 if ci_resamples is None else ci_resamples
            low, high, _ = subsample_interval(
                spec.fn,
                xt,
                yt,
                mi,
                n_resamples=b,
                fraction=ci_fraction,
                level=ci_level,
                subset_seed=seed,
                **fn_params,
            )
            record.update(ci="subsample", ci_resamples=b, ci_fraction=ci_fraction, ci_level=ci_level)
        elif ci and spec.ci == "parametric":
            b = 20 if ci_resamples is None else check_positive_int(ci_resamples, "ci_resamples", minimum=2)
            low, high = spec.fn.interval(xt, yt, n_resamples=b, level=ci_level, **{**fn_params, "seed": seed})
            record.update(ci="parametric", ci_resamples=b, ci_level=ci_level)
    record["seed"] = seed
    ceiling = getattr(spec.fn, "ceiling_info", None)  # InfoNCE: log2(n_heldout) caps the estimate
    if ceiling is not None and not protocol:
        diagnostics = {**diagnostics, **ceiling(mi, int(xt.shape[0]), **params)}
    for what, value in (("estimate", mi), ("interval's lower end", low), ("interval's upper end", high)):
        if value is not None and not math.isfinite(value):
            raise NonFiniteEstimate(
                f"{method} gave a non-finite {what} ({value}) on n={int(xt.shape[0])} samples; "
                "try marginals='copula' (heavy tails) or another method"
            )
    return MIEstimate(
        mi_bits=mi,
        ci_low_bits=low,
        ci_high_bits=high,
        n_samples=int(xt.shape[0]),
        seconds=time.perf_counter() - start,
        method=method,
        params=record,
        reliable=reliable,
        diagnostics=diagnostics,
    )
