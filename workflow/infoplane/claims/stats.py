"""Summaries across runs with an interval: the mean and t-based 95% CI over seeds, and a correlation with its CI."""

from __future__ import annotations

import numpy as np
from scipy import stats


def mean_ci(values, confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean of ``values`` and the t-interval of the mean; a single value gives a zero-width interval."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return float("nan"), float("nan"), float("nan")
    m = float(v.mean())
    if len(v) < 2:
        return m, m, m
    half = float(stats.t.ppf(0.5 + confidence / 2, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)))
    return m, m - half, m + half


def correlation_ci(a, b, confidence: float = 0.95) -> tuple[float, float, float]:
    """Pearson correlation of paired values and its Fisher-z interval; NaN pairs are dropped.

    Needs at least 4 pairs for an interval (z has standard error 1/sqrt(n - 3)).
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    ok = np.isfinite(a) & np.isfinite(b)
    a, b = a[ok], b[ok]
    if len(a) < 4 or a.std() == 0 or b.std() == 0:
        return float("nan"), float("nan"), float("nan")
    r = float(np.corrcoef(a, b)[0, 1])
    z, half = np.arctanh(np.clip(r, -0.999999, 0.999999)), stats.norm.ppf(0.5 + confidence / 2) / np.sqrt(len(a) - 3)
    return r, float(np.tanh(z - half)), float(np.tanh(z + half))


def claim_row(claim: str, metric: str, expected: str, values, holds_fn, summary=mean_ci) -> dict:
    """One claims-table row: ``summary(values)`` gives (observed, ci_low, ci_high); ``holds_fn`` of those decides.

    A claim needs an interval, so it does not hold on fewer than two finite values.
    """
    values = np.asarray(values, dtype=float)
    m, lo, hi = summary(values)
    n = int(np.isfinite(values).sum())
    return {
        "claim": claim,
        "metric": metric,
        "expected": expected,
        "observed": m,
        "holds": bool(n >= 2 and holds_fn(m, lo, hi)),
        "ci_low": lo,
        "ci_high": hi,
        "n_runs": n,
    }
