"""Machine-checked claims of papers: a registry of functions that turn tables into a claims table.

A claim function takes (mi, metrics, h_y_bits): the experiment's MI table for one estimator,
its metrics table and H(Y) in bits, and returns rows (claim, metric, expected, observed, holds,
ci_low, ci_high, n_runs).
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from . import butakov2024, chelombiev2019, hoffer2017, lossy_compression, saxe2018, song_ermon2020, tishby2017
from .kawaguchi2023 import check as kawaguchi2023_check

CLAIMS: dict[str, Callable[..., pd.DataFrame]] = {
    "tishby2017": tishby2017.check,
    "saxe2018": saxe2018.check,
    "chelombiev2019": chelombiev2019.check,
    # reads the staircase table of the variational_limits target, not an experiment's MI table
    "song_ermon2020": song_ermon2020.check,
    "kawaguchi2023": kawaguchi2023_check,  # reads the per-model table too (check.tables)
    "hoffer2017": hoffer2017.check,  # reads the diffusion table (check.tables), not MI
    "butakov2024": butakov2024.check,
    # reads accuracy.csv of the lossy_compression target (Butakov et al. 2024, section 5)
    "lossy_compression": lossy_compression.check,
}

CLAIM_COLUMNS = ["claim", "metric", "expected", "observed", "holds", "ci_low", "ci_high", "n_runs"]
