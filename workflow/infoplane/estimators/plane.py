"""Information-plane quantities of a layer over training: I(X;T) and I(T;Y) at every epoch.

A plane function takes one layer's activations at E epochs over the same n input patterns and
returns, per quantity, tensors of shape (E,) in bits. Methods that have a batched form over
epochs (binning, kernel bounds) register one with :func:`register_plane`; any other estimator in
the registry gets the generic form, which calls :func:`infoplane.estimators.estimate` per epoch
with (X, T) and (T, Y).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from .base import MIEstimate, NonFiniteEstimate
from .binning import binned_plane_bits
from .prepare import prepare_marginals

QUANTITIES = ("I_XT", "I_TY")

# quantity -> {"mi_bits": (E,), "ci_low_bits": (E,) or None, "ci_high_bits": (E,) or None}
PlaneResult = dict[str, dict[str, torch.Tensor | None]]
PlaneFn = Callable[..., PlaneResult]

PLANE_METHODS: dict[str, PlaneFn] = {}


def register_plane(name: str):
    """Decorator: register a batched plane function for estimator method ``name``."""

    def wrap(fn: PlaneFn) -> PlaneFn:
        PLANE_METHODS[name] = fn
        return fn

    return wrap


def _no_ci(values: dict[str, torch.Tensor]) -> PlaneResult:
    return {q: {"mi_bits": v, "ci_low_bits": None, "ci_high_bits": None} for q, v in values.items()}


@register_plane("binning")
def _binning_plane(activations, inputs, labels, **params) -> PlaneResult:
    return _no_ci(binned_plane_bits(activations, labels, **params))


def _generic_plane(method: str, activations, inputs, labels, **params) -> PlaneResult:
    from . import estimate  # late import: the package imports this module

    keys = ("mi_bits", "ci_low_bits", "ci_high_bits", "reliable")
    out: dict[str, dict[str, list]] = {q: {k: [] for k in keys} for q in QUANTITIES}
    for t in activations:
        for q, (a, b) in {"I_XT": (inputs, t), "I_TY": (t, labels)}.items():
            try:
                r = estimate(method, a, b, device=activations.device, **params)
            except NonFiniteEstimate:  # NaN for this epoch: the caller names the run, layer and epochs (or skips)
                r = MIEstimate(float("nan"), None, None, int(t.shape[0]), 0.0, method, params)
            out[q]["mi_bits"].append(r.mi_bits)
            out[q]["ci_low_bits"].append(float("nan") if r.ci_low_bits is None else r.ci_low_bits)
            out[q]["ci_high_bits"].append(float("nan") if r.ci_high_bits is None else r.ci_high_bits)
            out[q]["reliable"].append(float("nan") if r.reliable is None else float(r.reliable))
    result: PlaneResult = {}
    for q, cols in out.items():
        result[q] = {k: torch.tensor(v, dtype=torch.float64) for k, v in cols.items()}
        if all(v != v for v in cols["reliable"]):
            del result[q]["reliable"]  # no check ran: the same result as methods with a batched plane
    return result


def information_plane(
    method: str, activations: torch.Tensor, inputs: torch.Tensor, labels: torch.Tensor, **params
) -> PlaneResult:
    """I(X;T) and I(T;Y) of one layer at every epoch, in bits.

    method: an estimator name (``binning``, ``kde``, ``ksg``, ...).
    activations: (E, n, d) the layer at E epochs; inputs: (n, dx); labels: (n,) integers.
    ``marginals`` (see :mod:`.prepare`) applies to batched plane methods too, per epoch; with
    ``protocol=True`` every method takes the per-epoch path of :func:`infoplane.estimators.estimate`,
    and each quantity gains ``reliable`` (E,): 1.0, 0.0, or NaN where no check ran.
    """
    marginals = params.get("marginals", "none")
    if params.get("protocol", False) and not getattr(PLANE_METHODS.get(method), "protocol_ok", True):
        raise ValueError(f"protocol=True is not available for {method!r}: its plane has no per-epoch estimator form")
    if method in PLANE_METHODS and not params.get("protocol", False):
        params = {k: v for k, v in params.items() if k != "marginals"}
        if marginals != "none":
            activations = torch.stack([prepare_marginals(t, marginals) for t in activations])
            inputs = prepare_marginals(inputs, marginals)
        return PLANE_METHODS[method](activations, inputs, labels, **params)
    return _generic_plane(method, activations, inputs, labels, **params)
