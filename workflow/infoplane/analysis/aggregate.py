"""Stack per-run tables into one experiment table with the run's sweep parameters as columns."""

from __future__ import annotations

import pandas as pd


def stack_run_tables(tables: list[tuple[pd.DataFrame, dict]], experiment: str) -> pd.DataFrame:
    """tables: (table, labels) pairs; ``labels`` holds ``run``, ``estimator`` or sweep values to prepend."""
    frames = []
    for table, labels in tables:
        frame = table.copy()
        for i, (key, value) in enumerate(labels.items()):
            frame.insert(i, key, value)
        frame.insert(0, "experiment", experiment)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)
