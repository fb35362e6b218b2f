"""Gaussian blobs in the plane: the toy task of Kawaguchi et al. (2023).

``centers`` class centres drawn uniformly from the square [-center_box, center_box]^2, points
drawn isotropically around them with std ``cluster_std``. Each draw (``seed``) gives new
centres and new points, so sweeping the seed gives several data draws of the same task.
"""

from __future__ import annotations

import numpy as np


def generate(
    n_train: int, n_test: int, centers: int, cluster_std: float, center_box: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x (n_train + n_test, 2) float32, y (n,) int64 in 0..centers-1, is_train (n,) bool (training rows first).

    Labels are balanced as far as the counts allow (class k gets n // centers rows, the first
    n % centers classes one more), in the training and the test rows separately.
    """
    if centers < 2:
        raise ValueError(f"blobs: centers must be >= 2, got {centers}")
    if n_train < centers or n_test < 1:
        raise ValueError(f"blobs: need n_train >= centers ({centers}) and n_test >= 1, got {n_train}, {n_test}")
    rng = np.random.default_rng(seed)
    means = rng.uniform(-center_box, center_box, size=(centers, 2))

    def labels(n: int) -> np.ndarray:
        return rng.permutation(np.arange(n) % centers)

    y = np.concatenate([labels(n_train), labels(n_test)]).astype(np.int64)
    x = means[y] + cluster_std * rng.standard_normal((len(y), 2))
    is_train = np.arange(len(y)) < n_train
    return x.astype(np.float32), y, is_train
