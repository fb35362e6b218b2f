"""The estimator interface: the result type, the registry, and input handling.

Every estimator is a function ``fn(x, y, **params) -> float`` returning mutual information
in bits, where ``x`` is a float tensor (n, dx) and ``y`` is either a float tensor (n, dy) or an
integer label tensor (n,). Functions register themselves with :func:`register`; the public
entry point is :func:`infoplane.estimators.estimate`, which converts inputs, picks the device,
times the call and attaches a confidence interval.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

EstimatorFn = Callable[..., float]


@dataclasses.dataclass(frozen=True)
class MIEstimate:
    """One mutual-information estimate.

    mi_bits: the point estimate, in bits.
    ci_low_bits, ci_high_bits: a nominal 95% interval, or None when the method gives none.
    n_samples: the number of (x, y) pairs used.
    seconds: wall time of the whole call, interval included.
    method, params: exactly what produced the number.
    """

    mi_bits: float
    ci_low_bits: float | None
    ci_high_bits: float | None
    n_samples: int
    seconds: float
    method: str
    params: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class EstimatorSpec:
    """A registered estimator: its function and how intervals are made for it."""

    name: str
    fn: EstimatorFn
    ci: str  # "subsample" (kNN, kernel, binning), "seeds" (variational critics) or "none"
    labels_ok: bool  # whether y may be integer class labels


ESTIMATORS: dict[str, EstimatorSpec] = {}


def register(name: str, *, ci: str = "subsample", labels_ok: bool = True):
    """Decorator: add an estimator function to the registry under ``name``."""

    def wrap(fn: EstimatorFn) -> EstimatorFn:
        if name in ESTIMATORS:
            raise ValueError(f"estimator {name!r} is registered twice")
        ESTIMATORS[name] = EstimatorSpec(name=name, fn=fn, ci=ci, labels_ok=labels_ok)
        return fn

    return wrap


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """``"auto"`` picks CUDA when available (it respects CUDA_VISIBLE_DEVICES), else CPU."""
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={str(device)!r} was asked for but CUDA is not available here")
    return device


def as_tensor(a, name: str, device: torch.device, *, labels_ok: bool = False) -> torch.Tensor:
    """Convert a numpy array or tensor to a 2-d float64 tensor (n, d), or a 1-d int64 label tensor.

    Raises ValueError naming ``name`` for wrong shapes, empty or non-finite input.
    """
    t = torch.as_tensor(np.asarray(a) if not isinstance(a, torch.Tensor) else a)
    if t.ndim == 1 and labels_ok and not torch.is_floating_point(t):
        return t.to(device=device, dtype=torch.int64)
    if t.ndim == 1:
        t = t[:, None]
    if t.ndim != 2:
        raise ValueError(f"{name} must have shape (n, d) or (n,), got {tuple(t.shape)}")
    if t.shape[0] == 0:
        raise ValueError(f"{name} is empty")
    t = t.to(device=device, dtype=torch.float64)
    if not torch.isfinite(t).all():
        bad = int((~torch.isfinite(t)).sum())
        raise ValueError(f"{name} contains {bad} non-finite values (NaN or inf)")
    return t
