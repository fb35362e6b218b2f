"""The Tishby (2017) claims computed from hand-made tables whose answers are known."""

import math

import numpy as np
import pandas as pd
import pytest
from infoplane.claims import CLAIM_COLUMNS, CLAIMS
from infoplane.claims.stats import mean_ci
from infoplane.claims.tishby2017 import compression_bits, gradient_snr_drop


def _mi(runs):
    """A 2-layer MI table: layer 1 I(X;T) rises to 8 then falls to `final`; layer 2 I(T;Y) ends at `fit`."""
    rows = []
    for run, (activation, final, fit) in runs.items():
        for epoch, xt, ty in [(0, 4.0, 0.1), (10, 8.0, 0.5), (100, final, fit)]:
            rows += [
                {"run": run, "activation": activation, "epoch": epoch, "layer": 1, "quantity": "I_XT", "mi_bits": xt},
                {"run": run, "activation": activation, "epoch": epoch, "layer": 2, "quantity": "I_TY", "mi_bits": ty},
                {"run": run, "activation": activation, "epoch": epoch, "layer": 2, "quantity": "I_XT", "mi_bits": 1.0},
                {"run": run, "activation": activation, "epoch": epoch, "layer": 0, "quantity": "I_XT", "mi_bits": 9.0},
            ]
    return pd.DataFrame(rows)


def _metrics(runs, snr_early, snr_late):
    rows = []
    for run in runs:
        for epoch in range(0, 11):
            snr = snr_early if epoch <= 5 else snr_late
            rows.append({"run": run, "epoch": epoch, "grad_mean_norm_layer1": snr * 0.1, "grad_std_layer1": 0.1})
    return pd.DataFrame(rows)


def test_compression_is_peak_minus_final():
    mi = _mi({"a": ("tanh", 5.0, 0.9), "b": ("tanh", 8.0, 0.9)})
    assert compression_bits(mi, layer=1).to_dict() == {"a": 3.0, "b": 0.0}


def test_gradient_snr_drop_is_log_ratio_of_early_to_late():
    # epochs 1..10 (epoch 0 excluded); first and last 20% = 2 captures: SNR 10 early, 0.1 late.
    drop = gradient_snr_drop(_metrics(["a"], snr_early=10.0, snr_late=0.1))
    assert drop["a"] == pytest.approx(2.0)


def test_mean_ci_is_the_t_interval():
    m, lo, hi = mean_ci([1.0, 2.0, 3.0])
    half = 4.302652729911275 * 1.0 / math.sqrt(3)  # t(0.975, 2) * sd / sqrt(n)
    assert (m, lo, hi) == pytest.approx((2.0, 2.0 - half, 2.0 + half))


def test_claims_hold_and_fail_as_the_tables_say():
    runs = {f"r{i}": ("tanh", 5.0 + 0.1 * i, 0.95 + 0.01 * i) for i in range(3)}
    runs["relu"] = ("relu", 8.0, 0.2)  # not a tanh run: ignored by every claim
    table = CLAIMS["tishby2017"](_mi(runs), _metrics(runs, 10.0, 0.1), h_y_bits=1.0)
    assert list(table.columns) == CLAIM_COLUMNS
    assert table["n_runs"].tolist() == [3, 3, 3, 3]
    assert table["observed"].iloc[0] == pytest.approx(0.96)  # mean final I(T;Y)/I(X;Y) of the tanh runs
    assert table["observed"].iloc[1] == pytest.approx(2.9)  # layer L-1 = 1: 8 - mean(5.0, 5.1, 5.2)
    assert table["holds"].tolist() == [True, True, False, True]  # layer 0 never falls from its peak
    flat = CLAIMS["tishby2017"](_mi({k: ("tanh", 8.0, 0.5) for k in "abc"}), _metrics("abc", 1.0, 1.0), 1.0)
    assert not flat["holds"].any()
    assert np.isfinite(flat["observed"]).all()
