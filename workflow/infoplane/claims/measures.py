"""Per-run measures that claims are made of: one number per run, computed from the experiment tables.

Every function returns a pandas Series indexed by ``run``.
"""

from __future__ import annotations

import pandas as pd


def final_values(mi: pd.DataFrame, quantity: str, layer: int) -> pd.Series:
    """Per run: the value of ``quantity`` of ``layer`` at the last captured epoch."""
    sel = mi[(mi["quantity"] == quantity) & (mi["layer"] == layer)]
    return sel.sort_values("epoch").groupby("run")["mi_bits"].last()


def compression_bits(mi: pd.DataFrame, layer: int) -> pd.Series:
    """Per run: max over epochs of I(X;T) minus its final value, for ``layer`` (bits, >= 0)."""
    sel = mi[(mi["quantity"] == "I_XT") & (mi["layer"] == layer)].sort_values("epoch")
    g = sel.groupby("run")["mi_bits"]
    return g.max() - g.last()


def relative_compression(mi: pd.DataFrame, layer: int) -> pd.Series:
    """Per run: (max - final) / max of I(X;T) for ``layer``: the fraction of its peak information lost."""
    sel = mi[(mi["quantity"] == "I_XT") & (mi["layer"] == layer)].sort_values("epoch")
    g = sel.groupby("run")["mi_bits"]
    peak = g.max()
    return (peak - g.last()) / peak.where(peak > 0)


def generalisation_gap(metrics: pd.DataFrame) -> pd.Series:
    """Per run: train accuracy minus test accuracy at the last captured epoch."""
    last = metrics.sort_values("epoch").groupby("run").last()
    return last["train_accuracy"] - last["test_accuracy"]


def run_labels(table: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """One row per run with the given label columns (sweep values), indexed by ``run``."""
    return table.groupby("run")[columns].first()
