"""The 12-bit task of Shwartz-Ziv & Tishby (2017).

All 2^12 = 4096 binary patterns in counting order (row i is the binary expansion of i, most
significant bit first) with a binary label from a spherically symmetric rule: twelve points
p_1..p_12 on the unit sphere in R^3 (clustered around the diagonal of the positive octant, like
the reference points of the original ``g1.mat``), the input's projection z = sum_i x_i p_i, and the label 1 when |z|
exceeds a threshold, chosen as the median of |z| so the classes are near 50/50. Like the
original task, the label then depends mostly on how many bits are on: patterns with at most 4
bits on are (almost) all class 0, with at least 8 (almost) all class 1, and 5 to 7 are mixed.
The original task files (``var_u.mat``: ``F`` 4096x12, ``y`` 1x4096) load with :func:`load_mat`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

N_BITS = 12


def all_patterns(n_bits: int = N_BITS) -> np.ndarray:
    """All 2^n_bits binary patterns in counting order, MSB first: uint8 (2^n_bits, n_bits)."""
    i = np.arange(2**n_bits)[:, None]
    shifts = np.arange(n_bits - 1, -1, -1)[None, :]
    return ((i >> shifts) & 1).astype(np.uint8)


def points_on_sphere(n_points: int, rng: np.random.Generator) -> np.ndarray:
    """n_points unit vectors near the octant's diagonal (normals of mean 0.5 per coordinate, normalised): (3, n)."""
    v = rng.standard_normal((3, n_points)) + 0.5
    return v / np.linalg.norm(v, axis=0, keepdims=True)


def generate(seed: int = 0, n_bits: int = N_BITS) -> tuple[np.ndarray, np.ndarray]:
    """The generated task: x uint8 (2^n_bits, n_bits), y int64 (2^n_bits,) with classes near 50/50."""
    rng = np.random.default_rng(seed)
    x = all_patterns(n_bits)
    points = points_on_sphere(n_bits, rng)
    radius = np.linalg.norm(x @ points.T, axis=1)
    threshold = np.median(radius)
    y = (radius > threshold).astype(np.int64)
    return x, y


def load_mat(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Load an original task file: a MATLAB file with ``F`` (n, 12) and ``y`` (1, n) or (n,).

    Raises ValueError naming the file and the key when the file is missing or malformed.
    """
    from scipy.io import loadmat

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"dataset file {str(path)!r} does not exist")
    try:
        content = loadmat(path)
    except Exception as err:  # scipy raises several types for a bad file
        raise ValueError(f"dataset file {str(path)!r} is not a readable MATLAB file: {err}") from err
    for key in ("F", "y"):
        if key not in content:
            raise ValueError(f"dataset file {str(path)!r} has no variable {key!r}")
    x = np.asarray(content["F"])
    y = np.asarray(content["y"]).reshape(-1)
    if x.ndim != 2 or x.shape[0] != y.shape[0]:
        raise ValueError(
            f"dataset file {str(path)!r}: F must be (n, d) and y of length n, got F {x.shape} and y {y.shape}"
        )
    return x.astype(np.uint8), y.astype(np.int64)


def load_saxe_split(path: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Load the fixed train/test split of Saxe et al. (2018) (``X_train``, ``y_train``, ``X_test``, ``y_test``).

    Returns (x, y, is_train) with the patterns in the file's order, train rows first.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"split file {str(path)!r} does not exist")
    with np.load(path) as f:
        missing = [k for k in ("X_train", "y_train", "X_test", "y_test") if k not in f]
        if missing:
            raise ValueError(f"split file {str(path)!r} lacks arrays {missing}")
        x = np.concatenate([f["X_train"], f["X_test"]]).astype(np.uint8)
        y = np.concatenate([f["y_train"], f["y_test"]]).astype(np.int64).reshape(-1)
        is_train = np.r_[np.ones(len(f["X_train"]), bool), np.zeros(len(f["X_test"]), bool)]
    return x, y, is_train
