"""scikit-learn's handwritten digits (UCI optdigits test set): 1797 8x8 images, embedded, no download."""

from __future__ import annotations

import numpy as np


def load() -> tuple[np.ndarray, np.ndarray]:
    """x float32 (1797, 64) in [0, 1] (the 0..16 pixel counts divided by 16), y int64 (1797,) in 0..9."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = (np.asarray(bunch.data, dtype=np.float64) / 16.0).astype(np.float32)
    return x, np.asarray(bunch.target, dtype=np.int64)
