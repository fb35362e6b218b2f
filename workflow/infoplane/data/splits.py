"""Train/test splits as a boolean mask over samples."""

from __future__ import annotations

import numpy as np

SPLITS = ("original", "random")


def train_mask(n_samples: int, train_fraction: float, split: str, seed: int) -> np.ndarray:
    """Boolean (n_samples,) mask of training rows.

    ``original``: the first ``round(train_fraction * n)`` rows in their given order (IDNNs trains
    on the first 80% of patterns in counting order). ``random``: a seeded random subset of that size.
    """
    if not 0 < train_fraction <= 1:
        raise ValueError(f"train_fraction must be in (0, 1], got {train_fraction}")
    n_train = int(round(train_fraction * n_samples))
    mask = np.zeros(n_samples, dtype=bool)
    if split == "original":
        mask[:n_train] = True
    elif split == "random":
        rng = np.random.default_rng(seed)
        mask[rng.choice(n_samples, size=n_train, replace=False)] = True
    else:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    return mask
