"""Binning (plug-in) estimators of the information plane, vectorised over epochs.

Shwartz-Ziv & Tishby (2017) discretise every unit of a layer into equal-width bins and treat
the layer as a discrete variable T. X is uniform over the n input patterns and T is a
deterministic function of X, so

    I(X;T) = H(T)                 and        I(T;Y) = H(T) + H(Y) - H(T, Y),

both plug-in entropies of the empirical distribution over the n patterns, in bits.

Bin edges, per epoch and layer:
- ``range="fixed"``: ``bins`` equal-width bins over [low, high] (default [-1, 1], the range of
  tanh). Values outside are clipped into the end bins. The original IDNNs code used
  ``np.digitize(t, np.linspace(-1, 1, 30))``; on values inside (-1, 1) that is exactly
  ``bins=29`` here.
- ``range="observed"``: ``bins`` equal-width bins over the layer's observed [min, max] at that
  epoch, so unbounded (ReLU) layers are not clipped (Saxe et al. 2018).
- ``range="adaptive"``: equal-mass bins per unit, edges at quantiles of the unit's activity at
  that epoch (entropy-based adaptive binning, Chelombiev et al. 2019).

Everything runs in torch on the tensors' device; the only loop is over the columns of a layer
when packing bin indices into one integer code per row.
"""

from __future__ import annotations

import math

import torch

from .base import register

RANGES = ("fixed", "observed", "adaptive")


def bin_indices(
    t: torch.Tensor, bins: int, range: str = "fixed", low: float = -1.0, high: float = 1.0
) -> torch.Tensor:
    """Bin index of every activation.

    t: (E, n, d) activations of one layer at E epochs. Returns int64 (E, n, d) in [0, bins).
    """
    if bins < 2:
        raise ValueError(f"bins must be at least 2, got {bins}")
    if t.ndim != 3:
        raise ValueError(f"activations must have shape (epoch, sample, unit), got {tuple(t.shape)}")
    t = t.to(torch.float64)
    if range == "fixed":
        if not high > low:
            raise ValueError(f"binning range needs low < high, got low={low}, high={high}")
        lo = torch.tensor(low, dtype=t.dtype, device=t.device)
        width = (high - low) / bins
        idx = torch.floor((t - lo) / width)
    elif range == "observed":
        lo = t.amin(dim=(1, 2), keepdim=True)
        hi = t.amax(dim=(1, 2), keepdim=True)
        width = (hi - lo) / bins
        # A constant layer falls into one bin: guard the zero width.
        width = torch.where(width > 0, width, torch.ones_like(width))
        idx = torch.floor((t - lo) / width)
    elif range == "adaptive":
        # Edges at the unit's quantiles: interior quantiles 1/bins .. (bins-1)/bins over samples.
        q = torch.linspace(0, 1, bins + 1, dtype=t.dtype, device=t.device)[1:-1]
        edges = torch.quantile(t, q, dim=1)  # (bins-1, E, d)
        edges = edges.permute(1, 2, 0).contiguous()  # (E, d, bins-1)
        values = t.permute(0, 2, 1).contiguous()  # (E, d, n)
        idx = torch.searchsorted(edges, values, right=True).permute(0, 2, 1).to(t.dtype)
    else:
        raise ValueError(f"binning range must be one of {RANGES}, got {range!r}")
    return idx.clamp_(0, bins - 1).to(torch.int64)


def row_codes(idx: torch.Tensor, base: int) -> torch.Tensor:
    """One int64 code per (epoch, sample) row, equal exactly when the rows' bin indices are equal.

    idx: (E, n, d) integers in [0, base). Returns (E, n) int64. Columns are packed base-``base``
    while the code fits in 62 bits; when it would not, the partial codes are replaced by their
    dense rank (``torch.unique``), which keeps equality exact and frees the bits.
    """
    E, n, d = idx.shape
    code = torch.zeros((E, n), dtype=torch.int64, device=idx.device)
    span = 1  # the codes are < span
    limit = 2**62
    for j in range(d):
        if span * base >= limit:
            _, code = torch.unique(code, return_inverse=True)
            span = int(code.max()) + 1
        code = code * base + idx[:, :, j]
        span *= base
    return code


def entropy_bits_per_row(codes: torch.Tensor) -> torch.Tensor:
    """Plug-in entropy, in bits, of the values in each row of ``codes`` (E, n). Returns (E,)."""
    E, n = codes.shape
    s, _ = torch.sort(codes, dim=1)
    new = torch.ones_like(s, dtype=torch.bool)
    new[:, 1:] = s[:, 1:] != s[:, :-1]
    group = torch.cumsum(new.to(torch.int64), dim=1) - 1  # (E, n): 0 .. k-1 within each row
    counts = torch.zeros((E, n), dtype=torch.float64, device=codes.device)
    counts.scatter_add_(1, group, torch.ones_like(counts))
    p = counts / n
    plogp = torch.where(p > 0, p * torch.log2(torch.where(p > 0, p, torch.ones_like(p))), 0.0)
    return -plogp.sum(dim=1)


def binned_plane_bits(
    t: torch.Tensor,
    labels: torch.Tensor,
    bins: int = 30,
    range: str = "fixed",
    low: float = -1.0,
    high: float = 1.0,
) -> dict[str, torch.Tensor]:
    """I(X;T) and I(T;Y), in bits, of one layer at every epoch.

    t: (E, n, d) activations over all n input patterns (X uniform over them).
    labels: (n,) integer class labels.
    Returns {"I_XT": (E,), "I_TY": (E,)} float64 tensors.
    """
    if labels.ndim != 1 or labels.shape[0] != t.shape[1]:
        raise ValueError(
            f"labels must have shape ({t.shape[1]},) to match the activations, got {tuple(labels.shape)}"
        )
    idx = bin_indices(t, bins=bins, range=range, low=low, high=high)
    codes = row_codes(idx, base=bins)
    _, y = torch.unique(labels.to(t.device), return_inverse=True)
    n_classes = int(y.max()) + 1
    h_t = entropy_bits_per_row(codes)
    # Re-rank before appending the label so the joint code cannot overflow.
    _, dense = torch.unique(codes, return_inverse=True)
    h_ty = entropy_bits_per_row(dense * n_classes + y[None, :])
    h_y = entropy_bits_per_row(y[None, :])[0]
    return {"I_XT": h_t, "I_TY": h_t + h_y - h_ty}


def discrete_entropy_bits(labels: torch.Tensor) -> float:
    """Plug-in entropy H(Y), in bits, of integer labels (n,)."""
    return float(entropy_bits_per_row(labels.reshape(1, -1).to(torch.int64))[0])


def max_entropy_bits(n_samples: int) -> float:
    """The ceiling of any plug-in I(X;T) over n equiprobable patterns: log2(n)."""
    return math.log2(n_samples)


def _discrete_codes(a: torch.Tensor, bins: int, range: str, low: float, high: float) -> torch.Tensor:
    """(n,) int64 codes: integer labels pass through, float (n, d) data is binned per column."""
    if not torch.is_floating_point(a):
        return a.reshape(1, -1)
    return row_codes(bin_indices(a[None], bins=bins, range=range, low=low, high=high), base=bins)


@register("binning", ci="subsample", labels_ok=True)
def binning_mi_bits(
    x: torch.Tensor, y: torch.Tensor, bins: int = 30, range: str = "observed", low: float = -1.0, high: float = 1.0
) -> float:
    """Plug-in I(X;Y) = H(X) + H(Y) - H(X,Y) of binned x (n, dx) and binned or labelled y, in bits.

    Reference: the binning estimator of Shwartz-Ziv & Tishby (2017); ``range="adaptive"`` gives
    the equal-mass bins of Chelombiev et al. (2019). Standalone default: the observed range.
    """
    cx = _discrete_codes(x, bins, range, low, high)
    cy = _discrete_codes(y, bins, range, low, high)
    _, cx = torch.unique(cx, return_inverse=True)
    _, cy = torch.unique(cy, return_inverse=True)
    k = int(cy.max()) + 1
    h = entropy_bits_per_row
    return float(h(cx) + h(cy) - h(cx * k + cy))
