"""The claims of Butakov et al. (2024), "Information bottleneck analysis of deep neural networks via
lossy compression" (ICLR), on a noisy conv net (:mod:`infoplane.models.conv`), from one estimator's
MI table (every epoch captured) and the metrics table.

1. Compression: in every hidden layer L, I(X;L) rises and then falls at least once. Per run the
   peak is the epoch of the largest I(X;L); it *rose* when the peak's interval lies above the first
   epoch's, and *fell* when a later epoch's interval lies wholly below the peak's. The row's value is
   the fall (peak minus the lowest later estimate, bits); its interval runs from the peak's lower
   bound minus that epoch's upper bound to the peak's upper bound minus its lower bound (the
   estimator's own 95% intervals). Holds when every run rose and fell.
2. Timing: the first compression (the earliest peak, over the hidden layers that compress) begins
   near the steepest fall of the test loss (the epoch with the most negative one-epoch change).
   "Near" is within ``max(2, 10% of the epochs)`` epochs. Why: the peak of a noisy estimate is
   located only to within the epochs whose intervals overlap the peak's (the row's interval), which
   at laptop sizes spans a few epochs, and a fall of the loss is itself spread over several epochs;
   10% of training is the window in which Butakov et al. see both happen together, and 2 epochs the
   least a per-epoch capture can resolve. The value is (peak - steepest fall) in epochs.
3. Fitting: I(L;Y) of the output layer ends near H(Y): its final interval meets
   [H(Y) - tol, H(Y) + tol] with tol = max(0.25 bits, 10% of H(Y)).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

FIT_ABS_BITS, FIT_REL = 0.25, 0.10
NEAR_FRACTION, NEAR_MIN_EPOCHS = 0.10, 2


def _series(mi: pd.DataFrame, run, layer: int, quantity: str) -> pd.DataFrame:
    s = mi[(mi["run"] == run) & (mi["layer"] == layer) & (mi["quantity"] == quantity)].sort_values("epoch")
    lo = s["ci_low_bits"].fillna(s["mi_bits"]).to_numpy()
    hi = s["ci_high_bits"].fillna(s["mi_bits"]).to_numpy()
    return pd.DataFrame({"epoch": s["epoch"].to_numpy(), "mi": s["mi_bits"].to_numpy(), "lo": lo, "hi": hi})


def compression_phase(s: pd.DataFrame) -> dict:
    """Rise and fall of one I(X;L) series (epoch, mi, lo, hi): the peak, whether it rose and fell, the fall."""
    p = int(np.argmax(s["mi"].to_numpy()))
    rose = bool(s["lo"].iloc[p] > s["hi"].iloc[0]) if p > 0 else False
    later = s.iloc[p + 1 :]
    if later.empty:
        return {"peak_epoch": int(s["epoch"].iloc[p]), "rose": rose, "fell": False, "fall": 0.0, "lo": 0.0, "hi": 0.0,
                "peak_window": (int(s["epoch"].iloc[p]),) * 2}  # fmt: skip
    m = int(np.argmin(later["mi"].to_numpy()))
    low = later.iloc[m]
    fell = bool((later["hi"] < s["lo"].iloc[p]).any())
    overlap = s[s["hi"] >= s["lo"].iloc[p]]["epoch"]  # epochs that could be the peak within the intervals
    return {
        "peak_epoch": int(s["epoch"].iloc[p]),
        "rose": rose,
        "fell": fell,
        "fall": float(s["mi"].iloc[p] - low["mi"]),
        "lo": float(s["lo"].iloc[p] - low["hi"]),
        "hi": float(s["hi"].iloc[p] - low["lo"]),
        "peak_window": (int(overlap.min()), int(overlap.max())),
    }


def steepest_loss_fall(metrics: pd.DataFrame, run) -> int:
    """The epoch whose test loss fell most since the epoch before."""
    m = metrics[metrics["run"] == run].sort_values("epoch") if "run" in metrics else metrics.sort_values("epoch")
    change = np.diff(m["test_loss"].to_numpy())
    return int(m["epoch"].to_numpy()[1:][int(np.argmin(change))])


def _row(claim, metric, expected, observed, holds, lo, hi, n):
    return {"claim": claim, "metric": metric, "expected": expected, "observed": observed, "holds": bool(holds),
            "ci_low": lo, "ci_high": hi, "n_runs": n}  # fmt: skip


def check(mi: pd.DataFrame, metrics: pd.DataFrame, h_y_bits: float) -> pd.DataFrame:
    """Claims table (columns of :data:`infoplane.claims.CLAIM_COLUMNS`) from one estimator's MI table."""
    if "run" not in mi:
        mi = mi.assign(run="run")
    if "run" not in metrics:
        metrics = metrics.assign(run="run")
    runs = sorted(mi["run"].unique())
    output_layer = int(mi["layer"].max())
    hidden = sorted(int(layer) for layer in mi["layer"].unique() if layer < output_layer)
    rows, starts = [], {run: [] for run in runs}
    for layer in hidden:
        phases = [compression_phase(_series(mi, run, layer, "I_XT")) for run in runs]
        for run, ph in zip(runs, phases, strict=True):
            if ph["rose"] and ph["fell"]:
                starts[run].append(ph)
        rows.append(_row(
            f"compression: layer {layer}'s I(X;L) rises and then falls at least once",
            f"peak minus the lowest later I(X;L) of layer {layer} (bits); rose and fell beyond the 95% intervals",
            "> 0 in every run", float(np.mean([p["fall"] for p in phases])),
            all(p["rose"] and p["fell"] for p in phases), float(np.mean([p["lo"] for p in phases])),
            float(np.mean([p["hi"] for p in phases])), len(runs),
        ))  # fmt: skip
    n_epochs = int(mi["epoch"].max() - mi["epoch"].min())
    near = max(NEAR_MIN_EPOCHS, math.ceil(NEAR_FRACTION * n_epochs))
    offsets, lows, highs = [], [], []
    for run in runs:
        if not starts[run]:
            continue
        first = min(starts[run], key=lambda p: p["peak_epoch"])
        fall = steepest_loss_fall(metrics, run)
        offsets.append(first["peak_epoch"] - fall)
        lows.append(first["peak_window"][0] - fall)
        highs.append(first["peak_window"][1] - fall)
    rows.append(_row(
        "timing: the first compression begins near the steepest fall of the test loss",
        f"epoch of the first compressing peak minus the epoch of the steepest test-loss fall (near: |.| <= {near})",
        f"|.| <= {near} epochs", float(np.mean(offsets)) if offsets else float("nan"),
        bool(offsets) and len(offsets) == len(runs) and all(abs(o) <= near for o in offsets),
        float(np.mean(lows)) if lows else float("nan"), float(np.mean(highs)) if highs else float("nan"), len(offsets),
    ))  # fmt: skip
    tol = max(FIT_ABS_BITS, FIT_REL * h_y_bits)
    finals = []
    for run in runs:
        s = _series(mi, run, output_layer, "I_TY")
        finals.append(s.iloc[-1])
    lo, hi = float(np.mean([f["lo"] for f in finals])), float(np.mean([f["hi"] for f in finals]))
    rows.append(_row(
        "fitting: I(L;Y) of the output layer ends near H(Y)",
        f"final I(L;Y) of layer {output_layer} (bits); H(Y) = {h_y_bits:.4f}, tolerance {tol:.3g}",
        f"interval meets [{h_y_bits - tol:.3f}, {h_y_bits + tol:.3f}]", float(np.mean([f["mi"] for f in finals])),
        all(f["lo"] <= h_y_bits + tol and f["hi"] >= h_y_bits - tol for f in finals), lo, hi, len(runs),
    ))  # fmt: skip
    return pd.DataFrame(rows)
