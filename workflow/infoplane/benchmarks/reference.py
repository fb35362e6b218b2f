"""Reference implementations the torch estimators are compared against (tests and speed benchmark)."""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree
from scipy.special import digamma


def ckdtree_ksg_bits(x: np.ndarray, y: np.ndarray, k: int = 3) -> float:
    """KSG algorithm 1 (Kraskov et al. 2004) with scipy's cKDTree, max-norm everywhere, in bits.

    x: (n, dx), y: (n, dy) float arrays, used as given (no scaling, no jitter). The textbook
    tree-based form: the k-th joint neighbour distance eps_i, then the number of points strictly
    inside eps_i in each marginal (query_ball_point counts <=, hence nextafter towards 0).
    """
    x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
    n = len(x)
    xy = np.hstack([x, y])
    eps = cKDTree(xy).query(xy, k=k + 1, p=np.inf)[0][:, -1]
    r = np.nextafter(eps, 0)
    nx = cKDTree(x).query_ball_point(x, r, p=np.inf, return_length=True) - 1
    ny = cKDTree(y).query_ball_point(y, r, p=np.inf, return_length=True) - 1
    nats = digamma(k) + digamma(n) - np.mean(digamma(nx + 1) + digamma(ny + 1))
    return float(nats / np.log(2))
