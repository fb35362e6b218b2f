"""The claims of Saxe et al. (2018), "On the information bottleneck theory of deep learning", ICLR.

With the kernel-density upper bound on I(X;T) of a layer with additive Gaussian noise:

1. tanh networks compress: the last hidden layer's I(X;T) falls well below its peak;
2. ReLU networks do not: its I(X;T) keeps (almost) all of its peak;
3. linear networks do not compress either;
4. compression (or its absence) does not depend on stochasticity: it is the same under
   full-batch gradient descent and SGD, so an experiment with ``batch_size`` swept gets rows per batch size.

A layer "compresses" when it loses more than ``COMPRESSION_FRACTION`` of its peak I(X;T) by the end of
training, in the mean over seeds with its 95% interval: a compression claim holds when the interval's
lower end is above that fraction, a no-compression claim when its upper end is below it.
"""

from __future__ import annotations

import pandas as pd

from .measures import relative_compression
from .stats import claim_row

# Losing 5% of the peak I(X;T) is the line between compressing and not. The noise of the estimates
# (the last capture is compared with the largest of ~50) is well below it for the kernel bound.
COMPRESSION_FRACTION = 0.05

EXPECTED_COMPRESSION = {"tanh": True, "sigmoid": True, "relu": False, "linear": False}


def _group_label(keys: dict) -> str:
    """E.g. "tanh" or "tanh, batch_size full"."""
    return ", ".join(str(v) if k == "activation" else f"{k} {v}" for k, v in keys.items())


def check(mi: pd.DataFrame, metrics: pd.DataFrame, h_y_bits: float) -> pd.DataFrame:
    """Claims table from one estimator's MI table: a row per (activation[, batch size]) with an expectation."""
    last_hidden = int(mi["layer"].max()) - 1
    by = ["activation"] + (["batch_size"] if "batch_size" in mi.columns and mi["batch_size"].nunique() > 1 else [])
    rows = []
    for keys, group in mi.groupby(by, sort=False):
        keys = dict(zip(by, keys if isinstance(keys, tuple) else (keys,), strict=True))
        expected = EXPECTED_COMPRESSION.get(keys["activation"])
        if expected is None:
            continue
        if "batch_size" in keys:
            keys["batch_size"] = "full" if int(keys["batch_size"]) == 0 else int(keys["batch_size"])
        values = relative_compression(group, last_hidden).to_numpy()
        metric = f"(max - final) / max of I(X;T) of layer {last_hidden}, {_group_label(keys)} runs"
        if expected:
            rows.append(
                claim_row(
                    f"{_group_label(keys)}: the last hidden layer compresses",
                    metric,
                    f"> {COMPRESSION_FRACTION}",
                    values,
                    lambda m, lo, hi: lo > COMPRESSION_FRACTION,
                )
            )
        else:
            rows.append(
                claim_row(
                    f"{_group_label(keys)}: the last hidden layer does not compress",
                    metric,
                    f"< {COMPRESSION_FRACTION}",
                    values,
                    lambda m, lo, hi: hi < COMPRESSION_FRACTION,
                )
            )
    return pd.DataFrame(rows)
