"""infoplane.estimators: mutual-information estimators in torch, usable on their own.

    >>> from infoplane.estimators import estimate
    >>> r = estimate("binning", x, y, bins=30)
    >>> r.mi_bits, r.ci_low_bits, r.ci_high_bits

Every method takes numpy arrays or torch tensors on any device and returns an
:class:`MIEstimate` in bits. ``device="auto"`` uses the GPU when one is present.
"""

from __future__ import annotations

import time

from . import binning, knn  # noqa: F401  (registers)
from .base import ESTIMATORS, MIEstimate, as_tensor, register, resolve_device
from .plane import PLANE_METHODS, QUANTITIES, information_plane, register_plane

__all__ = [
    "ESTIMATORS",
    "MIEstimate",
    "PLANE_METHODS",
    "QUANTITIES",
    "estimate",
    "information_plane",
    "register",
    "register_plane",
    "resolve_device",
]


def estimate(method: str, x, y, *, device="auto", **params) -> MIEstimate:
    """Estimate I(X;Y) in bits with ``method`` and its ``params``.

    x: (n, dx) or (n,); y: (n, dy), (n,) floats, or (n,) integer class labels.
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
    mi = float(spec.fn(xt, yt, **params))
    return MIEstimate(
        mi_bits=mi,
        ci_low_bits=None,
        ci_high_bits=None,
        n_samples=int(xt.shape[0]),
        seconds=time.perf_counter() - start,
        method=method,
        params=dict(params),
    )
