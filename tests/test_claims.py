"""The claims of Tishby (2017), Saxe (2018) and Chelombiev (2019) computed from hand-made tables with known answers."""

import math

import numpy as np
import pandas as pd
import pytest
from infoplane.claims import CLAIM_COLUMNS, CLAIMS
from infoplane.claims.measures import compression_bits
from infoplane.claims.stats import correlation_ci, mean_ci
from infoplane.claims.tishby2017 import gradient_snr_drop


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


def _runs_table(runs, layers=(1, 2, 3)):
    """MI and metrics tables for runs {run: dict(activation, seed, l2, final, train, test)}.

    I(X;T) of every layer rises 4 -> 10 then falls to ``final`` (layer 1 falls to ``first``, default 10);
    train/test accuracy at the last epoch as given.
    """
    mi, metrics = [], []
    for run, r in runs.items():
        labels = {"run": run, "activation": r["activation"], "seed": r["seed"], "l2": r.get("l2", 0.0)}
        for epoch, frac in [(0, 0.0), (10, 1.0), (100, 2.0)]:
            for layer in layers:
                end = r.get("first", 10.0) if layer == 1 else r["final"]
                xt = {0.0: 4.0, 1.0: 10.0, 2.0: end}[frac]
                mi.append(labels | {"epoch": epoch, "layer": layer, "quantity": "I_XT", "mi_bits": xt})
            metrics.append(labels | {"epoch": epoch, "train_accuracy": r["train"], "test_accuracy": r["test"]})
    return pd.DataFrame(mi), pd.DataFrame(metrics)


def test_correlation_ci_is_the_fisher_interval():
    a = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    b = np.array([2.0, 1.0, 4.0, 3.0, 6.0, 5.0])
    r, lo, hi = correlation_ci(a, b)
    assert r == pytest.approx(np.corrcoef(a, b)[0, 1])
    half = 1.959963984540054 / math.sqrt(3)
    assert (lo, hi) == pytest.approx((math.tanh(math.atanh(r) - half), math.tanh(math.atanh(r) + half)))


def test_saxe_claims_follow_the_compression_of_each_activation():
    runs = {f"t{s}": dict(activation="tanh", seed=s, final=6.0 + 0.1 * s, train=1, test=1) for s in range(3)}
    runs |= {f"r{s}": dict(activation="relu", seed=s, final=10.0 - 0.01 * s, train=1, test=1) for s in range(3)}
    mi, metrics = _runs_table(runs)  # layer 3 is the output: the last hidden layer is 2
    table = CLAIMS["saxe2018"](mi, metrics, 1.0)
    assert list(table[CLAIM_COLUMNS].columns) == CLAIM_COLUMNS
    assert table["claim"].str.startswith("tanh").tolist() == [True, False]
    assert table["observed"].tolist() == pytest.approx([0.39, 0.001])  # (10 - 6.1) / 10 and (10 - 9.99) / 10
    assert table["holds"].tolist() == [True, True]
    # swap the behaviours: both claims fail
    swapped = {k: v | {"activation": "relu" if v["activation"] == "tanh" else "tanh"} for k, v in runs.items()}
    assert not CLAIMS["saxe2018"](*_runs_table(swapped), 1.0)["holds"].any()


def test_chelombiev_claims_on_runs_with_known_answers():
    runs = {}
    for i, act in enumerate(["tanh", "relu", "elu"]):
        for seed in range(3):
            for l2 in (0.0, 0.015):
                # compression grows with the activation index, with L2, and a little with the seed;
                # the generalisation gap falls as compression rises; layer 1 never compresses.
                final = 9.0 - 2.0 * i - 0.5 * seed - (2.0 if l2 else 0.0)
                gap = 0.02 + 0.01 * final
                runs[f"{act}{seed}{l2}"] = dict(activation=act, seed=seed, l2=l2, final=final, train=0.99,
                                               test=0.99 - gap, first=10.0 - 0.1 * (seed % 2))  # fmt: skip
    table = CLAIMS["chelombiev2019"](*_runs_table(runs), 1.0).set_index("claim")
    holds = table["holds"]
    assert not holds["tanh: the last hidden layer compresses"]  # 10% with a wide interval over seeds
    assert holds["elu: the last hidden layer compresses"]
    assert holds["saturation is not required: a non-saturating activation compresses"]
    assert holds["compression differs between activation functions"]
    # compression (1 + 2i + 0.5 seed) / 10: CV over seeds 0.05 / mean, i.e. 1/3, 1/7, 1/11; mean 0.189 < 0.2
    seeds = table.loc["initialisations vary: compression differs a lot between seeds"]
    assert seeds["observed"] == pytest.approx((1 / 3 + 1 / 7 + 1 / 11) / 3) and not seeds["holds"]
    assert holds["L2 regularisation increases compression"]
    assert table.loc["L2 regularisation increases compression", "observed"] == pytest.approx(0.2)
    assert holds["L2 regularisation reduces overfitting"]
    assert table.loc["L2 regularisation reduces overfitting", "observed"] == pytest.approx(-0.02)
    assert holds["the last hidden layer's compression goes with generalisation"]
    assert table.loc["the last hidden layer's compression goes with generalisation", "observed"] == pytest.approx(-1.0)
    assert holds["only the last layer: the first hidden layer's compression does not go with generalisation"]
    # no L2 swept: the L2 claims cannot hold
    plain = {k: v for k, v in runs.items() if v["l2"] == 0.0}
    table = CLAIMS["chelombiev2019"](*_runs_table(plain), 1.0).set_index("claim")
    assert not table.loc["L2 regularisation increases compression", "holds"]
