"""The per-model table of IB-and-generalisation experiments (Kawaguchi et al. 2023).

One row per run: the generalisation gap in loss and in error at the last captured epoch, I(X;Z)
and I(X;Z|Y) of every stochastic layer at that epoch with their summaries over layers (min, mean,
last), and the complexity measures the paper compares against: parameter count, and the sum and
product of the weight matrices' Frobenius norms. MI columns are in bits.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import xarray as xr

from ..io.parameter_names import parameter_variables

# the MI quantity of a stochastic layer -> its column stem
MI_STEMS = {"I_XT": "ixz", "I_XT_given_Y": "ixz_given_y"}
SUMMARIES = ("min", "mean", "last")
BASELINES = ("n_parameters", "weight_norm_sum", "weight_norm_log_product")
# columns of the table that are not labels of the run
LABEL_EXCLUDE = {"epoch", "layer", "quantity", "mi_bits", "ci_low_bits", "ci_high_bits", "n_samples", "estimator"}


def weight_baselines(weights: xr.Dataset) -> dict[str, float]:
    """Complexity measures of the final captured weights (the weights.zarr contract).

    n_parameters: every parameter tensor's size; weight_norm_sum / _product / _log_product: the sum,
    product and sum of logs of the Frobenius norms of the weight tensors (variables ending in
    ``weight``, one per layer; biases excluded).
    """
    last = weights.isel(epoch=-1)
    params = parameter_variables(last)  # not buffers (batch norm's running statistics)
    n_parameters = int(sum(last[name].size for name in params))
    weight_names = [name for name in sorted(params) if name.endswith("weight")]
    norms = [float(np.linalg.norm(np.asarray(last[name].values))) for name in weight_names]
    if not norms:
        raise ValueError("weights store has no weight variables (names ending in 'weight')")
    return {
        "n_parameters": n_parameters,
        "weight_norm_sum": float(sum(norms)),
        "weight_norm_product": float(np.prod(norms)),
        "weight_norm_log_product": float(sum(math.log(n) for n in norms)),
    }


def generalisation_table(mi: pd.DataFrame, metrics: pd.DataFrame, baselines: dict[str, dict]) -> pd.DataFrame:
    """One row per run.

    mi: the experiment's MI table for one estimator of stochastic layers (quantities I_XT and
    I_XT_given_Y per layer); metrics: the experiment's metrics table; baselines: {run: weight_baselines(...)}.
    Columns: the run's labels (experiment, run, sweep values), epoch, train/test loss and error,
    loss_gap (test - train loss), error_gap (test - train error), ixz_bits_layer{l},
    ixz_given_y_bits_layer{l}, their min/mean/last over layers (ixz_given_y_min_bits, ...), and the
    baselines.
    """
    missing = sorted(set(MI_STEMS) - set(mi["quantity"]))
    if missing:
        raise ValueError(f"the MI table has no {missing}: the generalisation table needs a stochastic-layer estimator")
    labels = [c for c in mi.columns if c not in LABEL_EXCLUDE]
    rows = []
    last_metrics = metrics.sort_values("epoch").groupby("run").last()
    for run, group in mi.groupby("run", sort=False):
        final = group[group["epoch"] == group["epoch"].max()]
        row = group[labels].iloc[0].to_dict() | {"epoch": int(final["epoch"].iloc[0])}
        m = last_metrics.loc[run]
        row |= {
            "train_loss": m["train_loss"],
            "test_loss": m["test_loss"],
            "train_error": 1 - m["train_accuracy"],
            "test_error": 1 - m["test_accuracy"],
            "loss_gap": m["test_loss"] - m["train_loss"],
            "error_gap": m["train_accuracy"] - m["test_accuracy"],
        }
        for quantity, stem in MI_STEMS.items():
            per_layer = final[final["quantity"] == quantity].sort_values("layer")
            values = per_layer["mi_bits"].to_numpy()
            row |= {f"{stem}_bits_layer{int(l)}": v for l, v in zip(per_layer["layer"], values, strict=True)}
            row |= {
                f"{stem}_min_bits": values.min(),
                f"{stem}_mean_bits": values.mean(),
                f"{stem}_last_bits": values[-1],
            }
        if run not in baselines:
            raise ValueError(f"no weight baselines for run {run!r}")
        row |= baselines[run]
        rows.append(row)
    return pd.DataFrame(rows)
