"""The claims of Butakov et al. (2024) on hand-made tables whose answers are known, and the figure."""

import numpy as np
import pandas as pd
import pytest
from infoplane.claims import CLAIM_COLUMNS, CLAIMS
from infoplane.figures import FIGURES

EPOCHS = np.arange(0, 21)


def _mi(xt_of_epoch, ty_final=3.2, half_width=0.1, runs=("seed~0", "seed~1")):
    """Layers 1, 2 hidden (I(X;L) given by xt_of_epoch), layer 3 the output whose I(L;Y) rises to ty_final."""
    rows = []
    for run in runs:
        for e in EPOCHS:
            for layer in (1, 2, 3):
                xt = xt_of_epoch(e) if layer < 3 else 2.0
                ty = ty_final * min(1.0, e / 10)
                for q, v in (("I_XT", xt), ("I_TY", ty)):
                    ci = {"ci_low_bits": v - half_width, "ci_high_bits": v + half_width}
                    rows.append({"run": run, "estimator": "wkl", "epoch": e, "layer": layer, "quantity": q,
                                 "mi_bits": v, **ci})  # fmt: skip
    return pd.DataFrame(rows)


def _metrics(steep_at=6, runs=("seed~0", "seed~1")):
    rows = []
    for run in runs:
        for e in EPOCHS:
            loss = 2.3 - (1.5 if e >= steep_at else 0.0) - 0.01 * e
            rows.append({"run": run, "epoch": e, "train_loss": loss, "test_loss": loss})
    return pd.DataFrame(rows)


def rise_then_fall(e):  # peaks at epoch 7 (5 bits), falls to 3 bits
    return 2.0 + 3.0 * e / 7 if e <= 7 else 5.0 - 2.0 * min(1.0, (e - 7) / 5)


def test_claims_hold_on_a_network_that_compresses_near_the_loss_fall():
    table = CLAIMS["butakov2024"](_mi(rise_then_fall), _metrics(steep_at=6), h_y_bits=3.32)
    assert list(table.columns) == CLAIM_COLUMNS
    by = table.set_index("claim")
    comp = by.loc["compression: layer 1's I(X;L) rises and then falls at least once"]
    assert comp["holds"] and comp["observed"] == pytest.approx(2.0)
    assert comp["ci_low"] == pytest.approx(1.8) and comp["ci_high"] == pytest.approx(2.2)
    timing = by.loc["timing: the first compression begins near the steepest fall of the test loss"]
    assert timing["holds"] and timing["observed"] == 1  # peak at 7, steepest fall at 6
    fit = by.loc["fitting: I(L;Y) of the output layer ends near H(Y)"]
    assert fit["holds"] and fit["observed"] == pytest.approx(3.2)


def test_claims_fail_where_the_tables_say():
    monotone = CLAIMS["butakov2024"](_mi(lambda e: 2.0 + 0.1 * e, ty_final=1.0), _metrics(steep_at=6), 3.32)
    assert not monotone["holds"].any()  # no compression, hence no timing; I(L;Y) far from H(Y)
    late_loss = CLAIMS["butakov2024"](_mi(rise_then_fall), _metrics(steep_at=16), 3.32).set_index("claim")
    assert not late_loss.loc["timing: the first compression begins near the steepest fall of the test loss", "holds"]
    # a fall inside the noise is not a compression phase
    noisy = CLAIMS["butakov2024"](_mi(rise_then_fall, half_width=1.5), _metrics(), 3.32).set_index("claim")
    assert not noisy.loc["compression: layer 1's I(X;L) rises and then falls at least once", "holds"]


def test_mi_epochs_figure_draws():
    fig = FIGURES["mi_epochs"](_mi(rise_then_fall), _metrics())
    assert len(fig.axes) == 3
