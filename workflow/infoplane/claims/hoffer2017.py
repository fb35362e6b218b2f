"""The claims of Hoffer, Hubara & Soudry (2017), "Train longer, generalize better", NeurIPS.

Checked from the experiment's metrics table and its diffusion table (:mod:`infoplane.analysis.weights`),
not from MI. The runs are named by the sweep key ``condition``, with these names:

- ``small``: the small batch B0; ``large``: the large batch B, same regime;
- ``large_sqrt``: B with lr x sqrt(B / B0); ``large_regime``: B with regime adaptation (the sqrt rule,
  and epochs and drops x B / B0); ``large_ghost``: B with the sqrt rule and Ghost BN (as the paper's
  Table 1 adds GBN on top of the learning-rate rule).

Claims (intervals are t-intervals over runs, or over seeds for paired differences):

1. and 2. Ultra-slow diffusion: in the first learning-rate phase, ||w_t - w_0|| (all parameters) is
   fitted better by a + b log t than by a + b sqrt t, and than by a + b t: R^2(log) - R^2(other) > 0
   over the runs whose captures in that phase span at least a decade of updates (MIN_SPAN): over a
   shorter span the three curves cannot be told apart (weights are captured once an epoch, so a
   large batch with few updates per epoch spans more of them).
3. The generalisation gap: final test accuracy of small minus large (paired by seed) > 0.
4. Regime adaptation closes it: small minus large_regime has an interval that includes 0 and lies
   below the mean gap of claim 3 (an interval that includes 0 only because it is wide does not count).
5. Ghost BN reduces it: large_ghost minus large_sqrt > 0 (Ghost BN is the only difference).
6. The sqrt rule reduces it (reported; the paper finds it alone is not enough): large_sqrt minus large > 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .stats import claim_row as _row
from .stats import mean_ci

SMALL, LARGE, SQRT, REGIME, GHOST = "small", "large", "large_sqrt", "large_regime", "large_ghost"
# the fits compare the growth laws over runs whose first-phase captures span this factor in updates
MIN_SPAN = 10.0


def final_accuracy(metrics: pd.DataFrame) -> pd.DataFrame:
    """Per run: condition, seed and test accuracy at its last captured epoch."""
    last = metrics.sort_values("epoch").groupby("run", sort=False).last().reset_index()
    return last[["run", "condition", "seed", "epoch", "test_accuracy", "train_accuracy"]]


def paired_difference(metrics: pd.DataFrame, a: str, b: str, column: str = "test_accuracy") -> np.ndarray:
    """Final ``column`` of condition ``a`` minus that of ``b``, paired by seed (seeds in both only)."""
    final = final_accuracy(metrics).pivot_table(index="seed", columns="condition", values=column)
    if a not in final or b not in final:
        return np.array([])
    return (final[a] - final[b]).dropna().to_numpy()


def check(mi: pd.DataFrame, metrics: pd.DataFrame, h_y_bits: float, diffusion: pd.DataFrame) -> pd.DataFrame:
    """Claims table from the metrics table and the diffusion (fits) table; ``mi`` and ``h_y_bits`` are unused."""
    total = diffusion[diffusion["layer"] == "total"]
    total = total[total["phase_updates_max"] >= MIN_SPAN * total["phase_updates_min"]]
    gap = paired_difference(metrics, SMALL, LARGE)
    gap_mean = mean_ci(gap)[0]
    rows = [
        _row(
            "diffusion: log fits the distance from init better than sqrt (first lr phase)",
            f"R^2(d ~ log t) - R^2(d ~ sqrt t), total distance, per run spanning >= {MIN_SPAN:g}x updates",
            "> 0",
            total["r2_log"] - total["r2_sqrt"],
            lambda m, lo, hi: lo > 0,
        ),
        _row(
            "diffusion: log fits the distance from init better than linear (first lr phase)",
            f"R^2(d ~ log t) - R^2(d ~ t), total distance, per run spanning >= {MIN_SPAN:g}x updates",
            "> 0",
            total["r2_log"] - total["r2_linear"],
            lambda m, lo, hi: lo > 0,
        ),
        _row(
            "large batches generalise worse",
            f"final test accuracy, {SMALL} - {LARGE}, paired by seed",
            "> 0",
            gap,
            lambda m, lo, hi: lo > 0,
        ),
        _row(
            "regime adaptation closes the gap",
            f"final test accuracy, {SMALL} - {REGIME}, paired by seed",
            "interval includes 0 and lies below the large-batch gap",
            paired_difference(metrics, SMALL, REGIME),
            lambda m, lo, hi: lo <= 0 <= hi and hi < gap_mean,
        ),
        _row(
            "Ghost BN reduces the gap",
            f"final test accuracy, {GHOST} - {SQRT}, paired by seed",
            "> 0",
            paired_difference(metrics, GHOST, SQRT),
            lambda m, lo, hi: lo > 0,
        ),
        _row(
            "the sqrt learning-rate rule reduces the gap",
            f"final test accuracy, {SQRT} - {LARGE}, paired by seed",
            "> 0",
            paired_difference(metrics, SQRT, LARGE),
            lambda m, lo, hi: lo > 0,
        ),
    ]
    return pd.DataFrame(rows)


check.tables = ("diffusion",)
