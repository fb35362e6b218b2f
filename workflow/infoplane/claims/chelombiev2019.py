"""The claims of Chelombiev, Houghton & O'Donnell (2019), "Adaptive estimators show information
compression in deep neural networks", ICLR.

Measured with an adaptive estimator (equal-mass bins, or a kernel whose width follows the layer's
spread), on the last hidden layer, across activation functions, L2 on and off, and seeds:

1. saturation is not required: some non-saturating activation (ReLU, ELU, softplus, swish,
   leaky ReLU) compresses; a row per activation shows which do;
2. the amount of compression differs between activation functions (Kruskal-Wallis test);
3. initialisations vary a lot: the spread of compression across seeds is a sizeable fraction
   of its mean (coefficient of variation within an activation);
4. L2 regularisation increases compression (paired by activation and seed);
5. L2 regularisation reduces overfitting (the train-test accuracy gap, paired);
6. the last hidden layer's compression goes with better generalisation: it is negatively
   correlated with the generalisation gap across runs (Pearson r with a Fisher-z interval), while
   the first hidden layer's is not.

Compression is (max - final) / max of I(X;T), as in :mod:`infoplane.claims.saxe2018`. Claims 1-3 use
the runs without L2 when L2 is swept.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .measures import generalisation_gap, relative_compression, run_labels
from .saxe2018 import COMPRESSION_FRACTION
from .stats import claim_row, correlation_ci

SATURATING = {"tanh", "sigmoid"}
# Claim 3: a coefficient of variation across seeds above this is "a large amount of variation".
SEED_VARIATION_CV = 0.2
P_VALUE = 0.05


def _per_run(mi: pd.DataFrame, metrics: pd.DataFrame) -> pd.DataFrame:
    """One row per run: activation, seed, l2, last-layer and first-layer compression, generalisation gap."""
    last_hidden = int(mi["layer"].max()) - 1
    labels = ["activation", "seed"] + (["l2"] if "l2" in mi.columns else [])
    runs = run_labels(mi, labels)
    if "l2" not in runs.columns:
        runs["l2"] = 0.0
    runs["compression"] = relative_compression(mi, last_hidden)
    runs["first_layer_compression"] = relative_compression(mi, 1)
    runs["gap"] = generalisation_gap(metrics)
    runs.attrs["last_hidden"] = last_hidden
    return runs


def _paired_l2_difference(runs: pd.DataFrame, column: str) -> np.ndarray:
    """(largest L2) minus (no L2) of ``column``, paired by activation and seed."""
    if runs["l2"].nunique() < 2:
        return np.array([np.nan])
    wide = runs.pivot_table(index=["activation", "seed"], columns="l2", values=column)
    return (wide[wide.columns.max()] - wide[0.0]).to_numpy() if 0.0 in wide.columns else np.array([np.nan])


def _correlation_row(claim, metric, expected, a, b, holds_fn) -> dict:
    r, lo, hi = correlation_ci(a, b)
    return {"claim": claim, "metric": metric, "expected": expected, "observed": r,
            "holds": bool(np.isfinite(r) and holds_fn(r, lo, hi)), "ci_low": lo, "ci_high": hi,
            "n_runs": int((np.isfinite(a) & np.isfinite(b)).sum())}  # fmt: skip


def check(mi: pd.DataFrame, metrics: pd.DataFrame, h_y_bits: float) -> pd.DataFrame:
    runs = _per_run(mi, metrics)
    layer = runs.attrs["last_hidden"]
    plain = runs[runs["l2"] == 0.0]
    rows = []
    non_saturating = []
    for activation, group in plain.groupby("activation", sort=False):
        row = claim_row(
            f"{activation}: the last hidden layer compresses",
            f"(max - final) / max of I(X;T) of layer {layer}, {activation} runs without L2",
            f"> {COMPRESSION_FRACTION}",
            group["compression"].to_numpy(),
            lambda m, lo, hi: lo > COMPRESSION_FRACTION,
        )
        rows.append(row)
        if activation not in SATURATING:
            non_saturating.append(row)
    best = max(non_saturating, key=lambda r: r["ci_low"] if np.isfinite(r["ci_low"]) else -np.inf, default=None)
    rows.append(
        {
            "claim": "saturation is not required: a non-saturating activation compresses",
            "metric": "the non-saturating activation with the highest lower CI on compression: "
            + (best["claim"].split(":")[0] if best else "none"),
            "expected": f"> {COMPRESSION_FRACTION}",
            "observed": best["observed"] if best else np.nan,
            "holds": bool(best and best["holds"]),
            "ci_low": best["ci_low"] if best else np.nan,
            "ci_high": best["ci_high"] if best else np.nan,
            "n_runs": best["n_runs"] if best else 0,
        }
    )
    groups = [g["compression"].dropna().to_numpy() for _, g in plain.groupby("activation")]
    groups = [g for g in groups if len(g)]
    p = float(stats.kruskal(*groups).pvalue) if len(groups) > 1 and np.ptp(np.concatenate(groups)) > 0 else np.nan
    rows.append({
        "claim": "compression differs between activation functions",
        "metric": f"Kruskal-Wallis p-value of layer-{layer} compression across {len(groups)} activations",
        "expected": f"< {P_VALUE}", "observed": p, "holds": bool(np.isfinite(p) and p < P_VALUE),
        "ci_low": np.nan, "ci_high": np.nan, "n_runs": int(sum(len(g) for g in groups)),
    })  # fmt: skip
    by_activation = plain.groupby("activation")["compression"]
    cv = by_activation.agg(lambda v: v.std(ddof=1) / abs(v.mean()) if len(v) > 1 else np.nan)
    rows.append(claim_row(
        "initialisations vary: compression differs a lot between seeds",
        f"coefficient of variation of layer-{layer} compression across seeds, mean over activations",
        f"> {SEED_VARIATION_CV}", cv.replace([np.inf, -np.inf], np.nan).to_numpy(),
        lambda m, lo, hi: m > SEED_VARIATION_CV,
    ))  # fmt: skip
    rows.append(claim_row(
        "L2 regularisation increases compression",
        f"layer-{layer} compression with L2 minus without, paired by activation and seed",
        "> 0", _paired_l2_difference(runs, "compression"), lambda m, lo, hi: lo > 0,
    ))  # fmt: skip
    rows.append(claim_row(
        "L2 regularisation reduces overfitting",
        "train - test accuracy gap with L2 minus without, paired by activation and seed",
        "< 0", _paired_l2_difference(runs, "gap"), lambda m, lo, hi: hi < 0,
    ))  # fmt: skip
    rows.append(_correlation_row(
        "the last hidden layer's compression goes with generalisation",
        f"Pearson r of layer-{layer} compression and the train - test accuracy gap across all runs",
        "< 0", runs["compression"].to_numpy(), runs["gap"].to_numpy(), lambda r, lo, hi: hi < 0,
    ))  # fmt: skip
    rows.append(_correlation_row(
        "only the last layer: the first hidden layer's compression does not go with generalisation",
        "Pearson r of layer-1 compression and the train - test accuracy gap across all runs (interval contains 0)",
        "contains 0", runs["first_layer_compression"].to_numpy(), runs["gap"].to_numpy(),
        lambda r, lo, hi: lo <= 0 <= hi,
    ))  # fmt: skip
    return pd.DataFrame(rows)
