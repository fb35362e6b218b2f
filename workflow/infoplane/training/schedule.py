"""Capture schedules: the epochs at which weights, metrics and gradient statistics are recorded.

Epoch e means the state after e completed epochs of training (e = 0 is the initialisation).
"""

from __future__ import annotations

import numpy as np


def log_schedule(n_epochs: int, n_points: int = 400) -> list[int]:
    """The original IDNNs schedule: the distinct values of a base-2 log grid over [1, n_epochs], minus one.

    ``np.unique(np.logspace(0, log2(n_epochs), n_points, base=2).astype(int)) - 1``; for
    n_epochs=8000 and n_points=400 that is 274 distinct epochs from 0 to 7999.
    """
    if n_epochs < 1:
        raise ValueError(f"n_epochs must be at least 1, got {n_epochs}")
    grid = np.logspace(0, np.log2(n_epochs), n_points, base=2, dtype=float).astype(int)
    return [int(e) for e in np.unique(grid) - 1]


def capture_epochs(
    n_epochs: int, schedule: str = "log", n_points: int = 400, epochs: list[int] | None = None
) -> list[int]:
    """The sorted capture epochs: the log schedule, or an explicit list (each in [0, n_epochs])."""
    if schedule == "list":
        if not epochs:
            raise ValueError("capture schedule 'list' needs a non-empty list of epochs")
        bad = [e for e in epochs if not 0 <= int(e) <= n_epochs]
        if bad:
            raise ValueError(f"capture epochs {bad} are outside [0, {n_epochs}] (training has {n_epochs} epochs)")
        return sorted({int(e) for e in epochs})
    if schedule == "log":
        return log_schedule(n_epochs, n_points)
    raise ValueError(f"capture schedule must be 'log' or 'list', got {schedule!r}")
