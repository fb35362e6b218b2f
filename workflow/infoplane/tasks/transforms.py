"""More MI-preserving maps of Czyz et al. (2023, "Beyond normal"), applied to x and y separately.

Every map here is injective, so I(f(X); g(Y)) = I(X; Y) and a transformed task keeps the MI of its
base. The definitions follow the paper's descriptions; the constants are ours.

- ``half_cube``: sign(a) |a|^(3/2) per coordinate (longer tails than the Gaussian, still light).
- ``wiggly``: a + 0.4 sin(a) + 0.2 sin(1.7 a + 1) + 0.15 sin(0.4 a + 0.3) per coordinate: strictly
  increasing (its derivative is at least 1 - 0.4 - 0.34 - 0.06 = 0.2), with wiggles in the density.
- ``swiss_roll``: a 1-d variable embedded in 2-d: u = Phi(a) in (0, 1), t = 1.5 pi (1 + 2 u),
  (t cos t, t sin t) / 21. A curve that does not cross itself, so the map is injective.
"""

from __future__ import annotations

import numpy as np
from scipy import stats


def half_cube(a: np.ndarray) -> np.ndarray:
    return np.sign(a) * np.abs(a) ** 1.5


def wiggly(a: np.ndarray) -> np.ndarray:
    return a + 0.4 * np.sin(a) + 0.2 * np.sin(1.7 * a + 1.0) + 0.15 * np.sin(0.4 * a + 0.3)


def swiss_roll(a: np.ndarray) -> np.ndarray:
    """(n, 1) -> (n, 2): the swiss-roll embedding of a standard normal variable."""
    if a.shape[1] != 1:
        raise ValueError(f"the swiss-roll embedding takes 1 dimension, got {a.shape[1]}")
    t = 1.5 * np.pi * (1.0 + 2.0 * stats.norm.cdf(a[:, 0]))
    return np.column_stack([t * np.cos(t), t * np.sin(t)]) / 21.0
