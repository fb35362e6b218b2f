"""The conditions of an experiment: runs that differ only by seed share a condition (e.g. tanh with L2 0).

Figures average over the seeds of a condition and show their spread; a condition is named by the
sweep values that vary in the experiment (the activation when nothing varies).
"""

from __future__ import annotations

import pandas as pd

# Columns of the experiment tables that are not sweep values.
NOT_CONDITIONS = {
    "experiment", "run", "seed", "estimator", "epoch", "layer", "quantity", "mi_bits", "ci_low_bits",
    "ci_high_bits", "n_samples", "seconds",
}  # fmt: skip


def condition_columns(table: pd.DataFrame) -> list[str]:
    """The sweep columns that vary across the runs of an experiment table (``["activation"]`` when none does).

    Sweep values are the label columns before ``epoch`` (see ``analysis.stack_run_tables``).
    """
    labels = list(table.columns[: list(table.columns).index("epoch")])
    cols = [c for c in labels if c not in NOT_CONDITIONS and table[c].nunique() > 1]
    return cols or ["activation"]


def with_condition(table: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``table`` with a ``condition`` column naming each row's condition, e.g. ``"relu, l2 0.015"``."""
    out = table.copy()

    def name(row) -> str:
        return ", ".join(str(row[c]) if c == "activation" else f"{c} {row[c]}" for c in columns)

    out["condition"] = out[columns].apply(name, axis=1) if len(out) else pd.Series(dtype=str)
    return out
