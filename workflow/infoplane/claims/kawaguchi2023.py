"""The claim of Kawaguchi, Deng, Ji & Huang (2023), "How does information bottleneck help deep
learning?", ICML: across trained models, the generalisation gap grows with the conditional
information I(X;Z|Y) that the representations keep about the training inputs (their bound scales
with it), and it tracks the gap better than the usual complexity measures do.

Checked from the per-model table (:mod:`infoplane.analysis.generalisation`):

1. the Spearman and 2. the Kendall rank correlation between min-over-layers I(X;Z|Y) and the loss
   gap (test - train cross-entropy) are positive: the lower end of a bootstrap interval over
   models is above 0;
3. for each baseline (parameter count, sum and log-product of the weight norms): the Spearman
   correlation of I(X;Z|Y) exceeds the baseline's (a paired bootstrap interval of the
   difference lies above 0).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..analysis.generalisation import BASELINES

MI_COLUMN = "ixz_given_y_min_bits"
GAP_COLUMN = "loss_gap"
N_BOOTSTRAP = 2000
METHODS = ("spearman", "kendall")


def _spearman_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Spearman's rho of each row pair: a, b (B, n) -> (B,); NaN where a row is constant."""
    ra, rb = stats.rankdata(a, axis=1), stats.rankdata(b, axis=1)
    ra, rb = ra - ra.mean(axis=1, keepdims=True), rb - rb.mean(axis=1, keepdims=True)
    denom = np.sqrt((ra**2).sum(axis=1) * (rb**2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, (ra * rb).sum(axis=1) / denom, np.nan)


def _kendall_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.array([stats.kendalltau(x, y).statistic for x, y in zip(a, b, strict=True)])


def rank_correlation(a, b, method: str = "spearman") -> float:
    """Spearman's rho or Kendall's tau-b of paired values (NaN pairs dropped)."""
    a, b = _finite_pairs(a, b)
    fn = _spearman_rows if method == "spearman" else _kendall_rows
    return float(fn(a[None], b[None])[0]) if len(a) >= 3 else float("nan")


def _finite_pairs(a, b) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    ok = np.isfinite(a) & np.isfinite(b)
    return a[ok], b[ok]


def bootstrap_indices(n: int, n_boot: int = N_BOOTSTRAP, seed: int = 0) -> np.ndarray:
    """(n_boot, n) resampled model indices (with replacement), seeded."""
    return np.random.default_rng(seed).integers(0, n, size=(n_boot, n))


def rank_correlation_ci(
    a, b, method: str = "spearman", confidence: float = 0.95, n_boot: int = N_BOOTSTRAP, seed: int = 0
) -> tuple[float, float, float]:
    """Rank correlation of paired values and its percentile bootstrap interval over pairs (models).

    Needs at least 4 finite pairs; otherwise NaNs.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    a, b = _finite_pairs(a, b)
    if len(a) < 4:
        return float("nan"), float("nan"), float("nan")
    fn = _spearman_rows if method == "spearman" else _kendall_rows
    r = float(fn(a[None], b[None])[0])
    idx = bootstrap_indices(len(a), n_boot, seed)
    boot = fn(a[idx], b[idx])
    alpha = 1 - confidence
    lo, hi = np.nanpercentile(boot, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return r, float(lo), float(hi)


def correlation_difference_ci(
    a, b, gap, confidence: float = 0.95, n_boot: int = N_BOOTSTRAP, seed: int = 0
) -> tuple[float, float, float]:
    """Spearman(a, gap) - Spearman(b, gap), with a paired percentile bootstrap interval over models."""
    a, b, gap = (np.asarray(v, dtype=float) for v in (a, b, gap))
    ok = np.isfinite(a) & np.isfinite(b) & np.isfinite(gap)
    a, b, gap = a[ok], b[ok], gap[ok]
    if len(a) < 4:
        return float("nan"), float("nan"), float("nan")
    d = float(_spearman_rows(a[None], gap[None])[0] - _spearman_rows(b[None], gap[None])[0])
    idx = bootstrap_indices(len(a), n_boot, seed)
    boot = _spearman_rows(a[idx], gap[idx]) - _spearman_rows(b[idx], gap[idx])
    alpha = 1 - confidence
    if not np.isfinite(boot).any():
        return d, float("nan"), float("nan")
    lo, hi = np.nanpercentile(boot, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return d, float(lo), float(hi)


def _row(claim, metric, expected, r, lo, hi, n, holds) -> dict:
    return {"claim": claim, "metric": metric, "expected": expected, "observed": r,
            "holds": bool(np.isfinite(lo) and holds(lo)), "ci_low": lo, "ci_high": hi, "n_runs": n}  # fmt: skip


def check(mi: pd.DataFrame, metrics: pd.DataFrame, h_y_bits: float, generalisation: pd.DataFrame) -> pd.DataFrame:
    """Claims rows from the per-model table ``generalisation`` (mi, metrics and h_y_bits are not needed)."""
    g = generalisation
    for column in (MI_COLUMN, GAP_COLUMN, *BASELINES):
        if column not in g.columns:
            raise ValueError(f"the generalisation table has no column {column!r}")
    n = int((np.isfinite(g[MI_COLUMN]) & np.isfinite(g[GAP_COLUMN])).sum())
    rows = []
    for method in METHODS:
        r, lo, hi = rank_correlation_ci(g[MI_COLUMN], g[GAP_COLUMN], method)
        rows.append(_row(
            f"the loss gap grows with I(X;Z|Y) ({method})",
            f"{method} rank correlation of min-over-layers I(X;Z|Y) and the test - train loss gap across models, "
            f"{N_BOOTSTRAP}-sample bootstrap interval",
            "> 0", r, lo, hi, n, lambda lo: lo > 0,
        ))  # fmt: skip
    for baseline in BASELINES:
        d, lo, hi = correlation_difference_ci(g[MI_COLUMN], g[baseline], g[GAP_COLUMN])
        alone = rank_correlation(g[baseline], g[GAP_COLUMN])
        rows.append(_row(
            f"I(X;Z|Y) tracks the loss gap better than {baseline}",
            f"Spearman rho of I(X;Z|Y) minus that of {baseline} (which alone is {alone:.2f}), paired bootstrap",
            "> 0", d, lo, hi, n, lambda lo: lo > 0,
        ))  # fmt: skip
    return pd.DataFrame(rows)


check.tables = ("generalisation",)
