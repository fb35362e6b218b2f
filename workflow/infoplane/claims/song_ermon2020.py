"""The claims of Song & Ermon (2020), "Understanding the limitations of variational mutual
information estimators" (ICLR), checked on the staircase table (:mod:`infoplane.benchmarks.staircase`,
``results/experiments/variational_limits/estimates.csv``).

1. InfoNCE stays below log(batch size), however high the true MI: it is a bound of at most log B.
2. The variance of NWJ grows with the true MI (the variance of its partition term grows like e^I).
3. The variance of MINE (the DV bound) grows with the true MI too.
4. SMILE with tau = 5 has a lower variance than NWJ at high MI: clipping bounds the partition term.

A unit is one (critic, transform, seed) run. The variance of a unit at a stage is the variance of
its per-step estimates over the last ``variance_fraction`` of the stage around a fitted straight
line, so that a critic still learning does not count as noise. Each row gives the mean over units
and its 95% t-interval; a claim holds when the interval lies on the expected side.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .stats import claim_row

REQUIRED = ["step", "stage", "true_mi_nats", "method", "critic", "transform", "seed", "estimate_nats", "batch_size"]
UNIT = ["critic", "transform", "seed"]


def _check_table(estimates: pd.DataFrame) -> None:
    missing = [c for c in REQUIRED if c not in estimates.columns]
    if missing:
        raise ValueError(
            "song_ermon2020 claims read the staircase table (results/experiments/variational_limits/"
            f"estimates.csv, the variational_limits target); the table given lacks columns {missing}"
        )


def _detrended_variance(steps: np.ndarray, values: np.ndarray) -> float:
    if len(values) < 3:
        return float("nan")
    slope, intercept = np.polyfit(steps.astype(float), values, 1)
    return float(np.var(values - (slope * steps + intercept), ddof=2))


def stage_variance(estimates: pd.DataFrame, variance_fraction: float = 0.5) -> pd.DataFrame:
    """Per (method, critic, transform, seed, stage): the mean and the detrended variance (nats^2)
    of the estimates over the last ``variance_fraction`` of the stage's steps."""
    _check_table(estimates)
    if not 0 < variance_fraction <= 1:
        raise ValueError(f"variational_limits.variance_fraction must lie in (0, 1], got {variance_fraction}")
    rows = []
    for keys, g in estimates.groupby(["method", *UNIT, "stage"], sort=True):
        g = g.sort_values("step")
        tail = g.iloc[len(g) - max(3, int(math.ceil(variance_fraction * len(g)))) :]
        rows.append(
            dict(zip(["method", *UNIT, "stage"], keys, strict=True))
            | {
                "true_mi_nats": float(g["true_mi_nats"].iloc[0]),
                "mean_nats": float(tail["estimate_nats"].mean()),
                "variance_nats2": _detrended_variance(tail["step"].to_numpy(), tail["estimate_nats"].to_numpy()),
                "n_steps": len(tail),
            }
        )
    return pd.DataFrame(rows)


def _per_unit(var: pd.DataFrame, method: str, stage: int, column: str) -> pd.Series:
    sel = var[(var["method"] == method) & (var["stage"] == stage)]
    return sel.set_index(UNIT)[column]


def check(estimates: pd.DataFrame, metrics=None, h_y_bits=None, variance_fraction: float = 0.5) -> pd.DataFrame:
    """Claims table (one row per claim, ``claims.CLAIM_COLUMNS``) from the staircase table.

    ``metrics`` and ``h_y_bits`` are not used (the registry's signature); the lowest and highest
    stages of the table are the low- and high-MI ends.
    """
    var = stage_variance(estimates, variance_fraction)
    lo_stage, hi_stage = int(var["stage"].min()), int(var["stage"].max())
    mi_lo = float(var.loc[var["stage"] == lo_stage, "true_mi_nats"].iloc[0])
    mi_hi = float(var.loc[var["stage"] == hi_stage, "true_mi_nats"].iloc[0])
    methods = set(var["method"])
    rows = []
    if "infonce" in methods:
        batch = int(estimates["batch_size"].iloc[0])
        log_b = math.log(batch)
        rows.append(
            claim_row(
                "InfoNCE stays below log(batch size)",
                f"mean InfoNCE estimate (nats) at true MI {mi_hi:g} nats, last {variance_fraction:g} of the stage",
                f"< log({batch}) = {log_b:.3f}",
                _per_unit(var, "infonce", hi_stage, "mean_nats").to_numpy(),
                lambda m, lo, hi: hi < log_b,
            )
        )
    for method, name in (("nwj", "NWJ"), ("mine", "MINE")):
        if method not in methods:
            continue
        ratio = np.log(
            _per_unit(var, method, hi_stage, "variance_nats2") / _per_unit(var, method, lo_stage, "variance_nats2")
        )
        rows.append(
            claim_row(
                f"the variance of {name} grows with the true MI",
                f"ln(variance of {name} at {mi_hi:g} nats / at {mi_lo:g} nats), per critic, transform and seed",
                "> 0",
                ratio.to_numpy(),
                lambda m, lo, hi: lo > 0,
            )
        )
    if {"nwj", "smile_tau5"} <= methods:
        ratio = np.log(
            _per_unit(var, "nwj", hi_stage, "variance_nats2") / _per_unit(var, "smile_tau5", hi_stage, "variance_nats2")
        )
        rows.append(
            claim_row(
                "SMILE (tau = 5) has lower variance than NWJ at high MI",
                f"ln(variance of NWJ / of SMILE tau=5) at {mi_hi:g} nats, per critic, transform and seed",
                "> 0",
                ratio.to_numpy(),
                lambda m, lo, hi: lo > 0,
            )
        )
    return pd.DataFrame(rows)
