"""The estimator interface: the result type, the registry, and input handling.

Every estimator is a function ``fn(x, y, **params) -> float`` returning mutual information
in bits, where ``x`` is a float tensor (n, dx) and ``y`` is either a float tensor (n, dy) or an
integer label tensor (n,). Functions register themselves with :func:`register`; the public
entry point is :func:`infoplane.estimators.estimate`, which converts inputs, picks the device,
times the call and attaches a confidence interval.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch

from .prepare import jitter, standardize_columns  # noqa: F401  (the shared preprocessing; re-exported)

EstimatorFn = Callable[..., float]


class NonFiniteEstimate(ValueError):
    """An estimator gave a non-finite estimate or interval end (a numerical failure, never written as a number)."""


@dataclasses.dataclass(frozen=True)
class MIEstimate:
    """One mutual-information estimate.

    mi_bits: the point estimate, in bits.
    ci_low_bits, ci_high_bits: a nominal 95% interval, or None when the method gives none.
    n_samples: the number of (x, y) pairs used.
    seconds: wall time of the whole call, interval included.
    method, params: exactly what produced the number.
    reliable: the verdict of a reliability check where one ran (the extrapolation protocol of
    :mod:`.protocol`, or ``method="auto"``), else None.
    diagnostics: what the check saw, and why the estimate is (un)reliable ({} when none ran).
    """

    mi_bits: float
    ci_low_bits: float | None
    ci_high_bits: float | None
    n_samples: int
    seconds: float
    method: str
    params: dict[str, Any]
    reliable: bool | None = None
    diagnostics: dict[str, Any] = dataclasses.field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class EstimatorSpec:
    """A registered estimator: its function and how intervals are made for it."""

    name: str
    fn: EstimatorFn
    ci: str  # "subsample" (kNN, kernel, binning), "seeds" (variational critics), "parametric" (t copula) or "none"
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


NATS_TO_BITS = 1.0 / math.log(2.0)


def check_min_samples(n: int, needed: int, what: str) -> None:
    """Raise a ValueError naming ``what`` when there are fewer than ``needed`` samples."""
    if n < needed:
        raise ValueError(f"{what} needs at least {needed} samples, got n={n}")


def check_positive_int(value, name: str, minimum: int = 1) -> int:
    """``value`` as an int >= ``minimum``, or a ValueError naming ``name``."""
    if isinstance(value, bool) or int(value) != value or int(value) < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_choice(value: str, name: str, choices) -> str:
    if value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}, got {value!r}")
    return value


CPU_BLOCK_ELEMENTS = 1 << 19  # 2 MiB of float32: a block stays in cache
GPU_BLOCK_ELEMENTS = 1 << 24  # 64 MiB of float32: few, large kernels (n = 100,000 gives 167 rows)


def row_chunks(
    n_rows: int, n_cols: int, chunk_size: int | None = None, budget: int | None = None, device=None
) -> Iterator[slice]:
    """Slices of rows so that one (rows, n_cols) block holds about ``budget`` elements.

    Pairwise computations loop over these blocks, so memory stays O(budget + n) whatever n is.
    The default budget depends on ``device``: 2**19 elements on CPU (2 MiB in float32; n = 20,000
    gives 26 rows), 2**24 on a GPU, where launching many small kernels would cost more.
    """
    if budget is None:
        on_gpu = device is not None and torch.device(device).type != "cpu"
        budget = GPU_BLOCK_ELEMENTS if on_gpu else CPU_BLOCK_ELEMENTS
    if chunk_size is None:
        chunk_size = max(16, budget // max(n_cols, 1))
    chunk_size = check_positive_int(chunk_size, "chunk_size")
    for start in range(0, n_rows, chunk_size):
        yield slice(start, min(start + chunk_size, n_rows))


def cpu_generator(seed: int) -> torch.Generator:
    """A seeded CPU generator: random draws are made on CPU and moved, so results match across devices."""
    g = torch.Generator(device="cpu")
    g.manual_seed(int(seed))
    return g


def is_labels(t: torch.Tensor) -> bool:
    """Whether ``t`` is an integer label vector (n,) as produced by :func:`as_tensor`."""
    return t.ndim == 1 and not torch.is_floating_point(t)
