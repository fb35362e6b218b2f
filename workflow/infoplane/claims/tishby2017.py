"""The claims of Shwartz-Ziv & Tishby (2017), checked from the tables rather than by eye.

The claims are about the paper's network, so they are checked on the tanh runs.

1. Fitting: the output layer's I(T;Y) approaches I(X;Y) (here H(Y): the label is a function of X).
2. Compression: in tanh networks the last hidden layers' I(X;T) falls after its peak.
3. Drift then diffusion: the gradient signal-to-noise ratio ||mean g|| / std(g) falls during training.

Each claim is a row: (claim, metric, expected, observed, holds) with the mean over runs, its 95%
interval across seeds (ci_low, ci_high) and the number of runs. A claim "holds" when its interval
lies on the expected side of the threshold.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .measures import compression_bits, final_values
from .stats import claim_row as _row

# The output layer's I(T;Y) must reach 85% of I(X;Y). A network that is right on 98% of the
# patterns (all it can do: a fifth of them are never trained on) has I(T;Y) near 0.9 bits.
FIT_FRACTION = 0.85


def gradient_snr_drop(metrics: pd.DataFrame, fraction: float = 0.2) -> pd.Series:
    """Per run: log10 of the mean gradient SNR (over layers) in the first over the last ``fraction`` of captures.

    Epoch 0 (the initialisation) is excluded. Positive means the SNR fell: drift, then diffusion.
    """
    out = {}
    layers = sorted(int(c.removeprefix("grad_std_layer")) for c in metrics.columns if c.startswith("grad_std_layer"))
    for run, m in metrics[metrics["epoch"] > 0].sort_values("epoch").groupby("run"):
        snr = np.mean(
            [m[f"grad_mean_norm_layer{l}"].to_numpy() / m[f"grad_std_layer{l}"].to_numpy() for l in layers], axis=0
        )
        k = max(1, int(len(snr) * fraction))
        out[run] = float(np.log10(np.mean(snr[:k]) / np.mean(snr[-k:])))
    return pd.Series(out, dtype=float)


def check(mi: pd.DataFrame, metrics: pd.DataFrame, h_y_bits: float) -> pd.DataFrame:
    """Claims table from one estimator's experiment MI table and the experiment's metrics table."""
    output_layer = int(mi["layer"].max())
    last_hidden = output_layer - 1
    tanh_runs = set(mi.loc[mi["activation"] == "tanh", "run"])
    tanh_mi = mi[mi["run"].isin(tanh_runs)]
    rows = [
        _row(
            "fitting: the output layer's I(T;Y) approaches I(X;Y)",
            f"final I(T;Y) of layer {output_layer} / I(X;Y) (I(X;Y) = {h_y_bits:.5f} bits), tanh runs",
            f">= {FIT_FRACTION}",
            (final_values(tanh_mi, "I_TY", output_layer) / h_y_bits).to_numpy() if tanh_runs else np.array([np.nan]),
            lambda m, lo, hi: lo >= FIT_FRACTION,
        ),
    ]
    for layer in (last_hidden, last_hidden - 1):
        rows.append(
            _row(
                f"compression: tanh layer {layer}'s I(X;T) falls after its peak",
                f"max over epochs minus final I(X;T) of layer {layer} (bits), tanh runs",
                "> 0",
                compression_bits(tanh_mi, layer).to_numpy() if tanh_runs else np.array([np.nan]),
                lambda m, lo, hi: lo > 0,
            )
        )
    tanh_metrics = metrics[metrics["run"].isin(tanh_runs)]
    rows.append(
        _row(
            "drift then diffusion: the gradient SNR falls during training",
            "log10(SNR in the first 20% of captures / SNR in the last 20%), mean over layers, tanh runs",
            "> 0",
            gradient_snr_drop(tanh_metrics).to_numpy() if tanh_runs else np.array([np.nan]),
            lambda m, lo, hi: lo > 0,
        )
    )
    return pd.DataFrame(rows)
