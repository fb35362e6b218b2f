"""Every estimator recovers the MI of 2-d and 10-d Gaussians, within tolerances justified below.

Tasks: x, y ~ N(0, I) with corr(x_i, y_i) = rho in every pair, each side then rotated by a fixed
random orthogonal matrix; I(X;Y) = 1 bit. 2-d is 1+1 dims, 10-d is 5+5 dims; n = 2000.
"""

import math

import numpy as np
import pytest
import torch
from infoplane.estimators import estimate
from infoplane.tasks import make_task

N = 2000
TASKS = {
    "2d": make_task("gaussian", dim_x=1, dim_y=1, mi_bits=1.0),
    "10d": make_task("gaussian", dim_x=5, dim_y=5, mi_bits=1.0),
}

# (method, params, {task: (lowest allowed error, highest allowed error)}), errors in bits.
# - gaussian: exact model; its sd at n=2000 is ~0.03 bits (1+1) to ~0.04 bits (5+5): +-0.12.
# - ksg (k=3, both algorithms): sd ~0.02 bits in 1+1 dims: +-0.1. In 5+5 dims KSG is known to
#   underestimate (Kraskov et al. 2004, sec. IV; Czyz et al. 2023, fig. 3): we measured -0.22 to
#   -0.31 bits over seeds at n=2000, so allow [-0.4, +0.1]: the sign and size of the known bias.
# - pca_ksg keeping every dimension is KSG on rotated axes: the same allowance.
# - binning (12 equal-width bins over the observed range), 1+1 only: quantising a unit Gaussian
#   into 12 bins loses ~0.1 bit; plug-in bias (B-1)^2/(2n ln 2) adds ~0.04: [-0.2, +0.1]. It
#   is not applicable in 5+5 dims (12^5 cells for 2000 points: every point in its own cell).
# - variational critics (300 steps, held-out evaluation) are lower bounds with an undertrained
#   critic: measured -0.0 to -0.08 (1+1) and -0.12 to -0.27 (5+5, SMILE lowest) over seeds;
#   allow [-0.25, +0.1] and [-0.4, +0.1].
KNN = {"2d": (-0.1, 0.1), "10d": (-0.4, 0.1)}
VAR = {"2d": (-0.25, 0.1), "10d": (-0.4, 0.1)}
CASES = [
    ("gaussian", {}, {"2d": (-0.12, 0.12), "10d": (-0.12, 0.12)}),
    ("ksg", {"k": 3}, KNN),
    ("ksg", {"k": 3, "algorithm": 2}, KNN),
    ("ksg", {"k": 3, "metric": "euclidean"}, KNN),
    ("pca_ksg", {"components": 5}, KNN),
    ("binning", {"bins": 12}, {"2d": (-0.2, 0.1)}),
    ("mine", {"steps": 300}, VAR),
    ("nwj", {"steps": 300}, VAR),
    ("infonce", {"steps": 300}, VAR),
    ("smile", {"steps": 300}, VAR),
]


@pytest.mark.parametrize("task_name", ["2d", "10d"])
@pytest.mark.parametrize(
    ("method", "params", "allowed"), CASES, ids=lambda v: v if isinstance(v, str) else None
)
def test_recovers_gaussian_mi(task_name, method, params, allowed):
    if task_name not in allowed:
        pytest.skip(f"{method} is not meant for {task_name}")
    task = TASKS[task_name]
    x, y = task.sample(N, seed=11)
    r = estimate(method, x, y, ci=False, seed=0, **params)
    lo, hi = allowed[task_name]
    assert lo <= r.mi_bits - task.mi_bits <= hi, f"{method} {params}: {r.mi_bits:.3f} vs {task.mi_bits}"


def test_pca_compression_recovers_mi_living_in_leading_components():
    # Dependence in 2 high-variance coordinates, 8 weak independent ones per side: PCA to 2 keeps
    # all the MI (truth 1 bit), and KSG in the 2-d projection beats KSG in 10 dims.
    base = make_task("gaussian", dim_x=2, dim_y=2, mi_bits=1.0, mixing_seed=None)
    s, u = base.sample(N, seed=3)
    rng = np.random.default_rng(4)
    x = np.hstack([3 * s, rng.standard_normal((N, 8))])
    y = np.hstack([3 * u, rng.standard_normal((N, 8))])
    compressed = estimate("pca_ksg", x, y, components=2, ci=False).mi_bits
    raw = estimate("ksg", x, y, ci=False).mi_bits
    assert abs(compressed - 1.0) < 0.1
    assert abs(compressed - 1.0) < abs(raw - 1.0)


def test_kde_bounds_bracket_gaussian_channel_mi():
    # X ~ N(0, I_d), T = W X + Z, Z ~ N(0, s2 I): I(X;T) = 1/2 log det(I + W W^T / s2) exactly. The
    # KDE bounds of the n-point mixture bracket it up to the mixture's finite-n error (~0.1 bit).
    for d, s2 in [(2, 0.5), (10, 4.0)]:
        rng = np.random.default_rng(d)
        w = np.eye(d) + 0.3 * rng.standard_normal((d, d))
        x = rng.standard_normal((N, d))
        truth = 0.5 * np.linalg.slogdet(np.eye(d) + w @ w.T / s2)[1] / math.log(2)
        up = estimate("kde", x, x @ w.T, noise_variance=s2, bound="upper", ci=False).mi_bits
        low = estimate("kde", x, x @ w.T, noise_variance=s2, bound="lower", ci=False).mi_bits
        assert low - 0.1 <= truth <= up + 0.1, (d, low, truth, up)


def test_renyi_grows_with_true_mi():
    # Matrix-based Renyi MI is not Shannon MI; what it must do is order distributions by dependence.
    values = []
    for mi in (0.1, 0.5, 1.0, 2.0):
        x, y = make_task("gaussian", dim_x=2, dim_y=2, mi_bits=mi).sample(800, seed=0)
        values.append(estimate("renyi", x, y, ci=False).mi_bits)
    assert np.all(np.diff(values) > 0), values


def test_estimates_are_deterministic_given_seed():
    x, y = TASKS["2d"].sample(500, seed=0)
    for method in ("ksg", "infonce"):
        extra = {"steps": 30} if method == "infonce" else {}
        a = estimate(method, torch.as_tensor(x), y, seed=4, ci_resamples=3, **extra)
        b = estimate(method, x, y, seed=4, ci_resamples=3, **extra)
        assert (a.mi_bits, a.ci_low_bits, a.ci_high_bits) == (b.mi_bits, b.ci_low_bits, b.ci_high_bits)


def test_the_gaussian_bias_correction_is_exact_on_gaussian_data():
    from infoplane.estimators.gaussian import gaussian_bias_nats, gaussian_mi_bits

    # dx dy / (2n) to first order, symmetric in dx and dy
    assert gaussian_bias_nats(5000, 50, 50) == pytest.approx(2500 / 10000, rel=0.02)
    assert gaussian_bias_nats(100, 3, 5) == pytest.approx(gaussian_bias_nats(100, 5, 3), rel=1e-12)
    task = make_task("gaussian", dim_x=3, dim_y=5, mi_bits=0.5)
    raw, corrected = [], []
    for s in range(200):
        x, y = (torch.as_tensor(a) for a in task.sample(100, seed=s))
        raw.append(gaussian_mi_bits(x, y))
        corrected.append(gaussian_mi_bits(x, y, bias_correction=True))
    se = np.std(corrected, ddof=1) / np.sqrt(len(corrected))
    assert abs(np.mean(corrected) - 0.5) < 3 * se  # the plain estimate is ~0.11 bit (~17 se) too high
    assert np.mean(raw) - np.mean(corrected) == pytest.approx(gaussian_bias_nats(100, 3, 5) / np.log(2), rel=1e-6)
