"""Claims of the lossy-compression benchmark (Butakov et al. 2024, section 5), checked on
``results/experiments/lossy_compression/accuracy.csv`` (:mod:`infoplane.benchmarks.lossy_compression`).

For every (family, source, pipeline): up to which true MI does the estimate stay within
max(0.25 bits, 15%) of the truth? Per grid point, the estimate is the mean over seeds with its
95% t-interval. ``observed`` is the largest true MI T such that every grid point up to T has its
mean within the tolerance; ``ci_low`` is the same with the whole interval inside the tolerance
band, ``ci_high`` with the interval merely touching it. The claims:

- a compressed pipeline (PCA or autoencoder, then KSG or WKL) stays within the tolerance over
  the whole grid: holds when T is the largest true MI of the grid;
- KSG on raw pixels does not: holds when T is below it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .stats import mean_ci

ABS_BITS, REL = 0.25, 0.15
REQUIRED = ["family", "source", "pipeline", "compressor", "seed", "true_mi_bits", "mi_bits"]


def _tolerance(truth: float) -> float:
    return max(ABS_BITS, REL * truth)


def valid_up_to(points: pd.DataFrame) -> tuple[float, float, float]:
    """points: one row per true MI (sorted), with mean, lo, hi. Returns (T, T_low, T_high) in bits (0: none)."""

    def last(ok: np.ndarray) -> float:
        bad = np.flatnonzero(~ok)
        upto = len(ok) if len(bad) == 0 else bad[0]
        return float(points["truth"].iloc[upto - 1]) if upto > 0 else 0.0

    tol = points["truth"].map(_tolerance).to_numpy()
    dev_mean = (points["mean"] - points["truth"]).abs().to_numpy()
    dev_far = np.maximum((points["lo"] - points["truth"]).abs(), (points["hi"] - points["truth"]).abs()).to_numpy()
    inside = (points["lo"] <= points["truth"] + tol) & (points["hi"] >= points["truth"] - tol)
    return last(dev_mean <= tol), last(dev_far <= tol), last(inside.to_numpy())


def check(accuracy: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in REQUIRED if c not in accuracy.columns]
    if missing:
        raise ValueError(f"lossy_compression claims read accuracy.csv of the lossy_compression target; "
                         f"the table given lacks columns {missing}")  # fmt: skip
    rows = []
    for (family, source, pipeline), g in accuracy.groupby(["family", "source", "pipeline"], sort=True):
        points = []
        for truth, p in g.groupby("true_mi_bits", sort=True):
            m, lo, hi = mean_ci(p["mi_bits"])
            points.append({"truth": truth, "mean": m, "lo": lo, "hi": hi})
        points = pd.DataFrame(points)
        t, t_lo, t_hi = valid_up_to(points)
        top = float(points["truth"].max())
        raw = (g["compressor"] == "none").all()
        expected = f"< {top:.3g} bits (fails within the grid)" if raw else f"= {top:.3g} bits (the whole grid)"
        rows.append({
            "claim": f"{pipeline} on {family} ({source} source) stays within max({ABS_BITS} bits, {REL:.0%}) "
                     f"of the truth up to the true MI observed" + (" - not over the whole grid" if raw else ""),
            "metric": "valid_up_to_bits", "expected": expected, "observed": t,
            "holds": bool(t < top) if raw else bool(t >= top),
            "ci_low": t_lo, "ci_high": t_hi, "n_runs": int(g["seed"].nunique()),
        })  # fmt: skip
    return pd.DataFrame(rows)
