"""Symmetry, invariance to sample order, zero MI for independent variables, intervals and errors."""

import numpy as np
import pytest
import torch
from infoplane.estimators import ESTIMATORS, estimate, information_plane
from infoplane.tasks import make_task

SYMMETRIC = [
    ("ksg", {}),
    ("ksg", {"algorithm": 2}),
    ("gaussian", {}),
    ("renyi", {}),
    ("pca_ksg", {"components": 2}),
]


@pytest.fixture(scope="module")
def pair():
    return make_task("asinh", dim_x=3, dim_y=2, mi_bits=1.0).sample(600, seed=1)


@pytest.mark.parametrize(("method", "params"), SYMMETRIC)
def test_symmetric_in_x_and_y(pair, method, params):
    x, y = pair
    a = estimate(method, x, y, ci=False, **params).mi_bits
    b = estimate(method, y, x, ci=False, **params).mi_bits
    assert a == pytest.approx(b, abs=1e-9)


@pytest.mark.parametrize(("method", "params"), [*SYMMETRIC, ("binning", {"bins": 5}), ("kde", {})])
def test_invariant_to_sample_order(pair, method, params):
    x, y = pair
    perm = np.random.default_rng(0).permutation(len(x))
    a = estimate(method, x, y, ci=False, **params).mi_bits
    b = estimate(method, x[perm], y[perm], ci=False, **params).mi_bits
    assert a == pytest.approx(b, abs=1e-6)


@pytest.mark.parametrize(
    ("method", "params"),
    # Not renyi: the matrix functional is biased away from 0 at finite n (see its module docstring).
    [("ksg", {}), ("ksg", {"algorithm": 2}), ("gaussian", {}), ("pca_ksg", {"components": 2})],
)
def test_independent_variables_have_zero_mi_within_the_interval(method, params):
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((1000, 3)), rng.standard_normal((1000, 3))
    r = estimate(method, x, y, ci_resamples=20, seed=0, **params)
    assert r.ci_low_bits <= 0.0 <= r.ci_high_bits, r


def test_independent_labels_have_zero_mi_within_the_interval():
    rng = np.random.default_rng(3)
    r = estimate("ksg", rng.standard_normal((1000, 2)), rng.integers(0, 4, 1000), seed=0)
    assert r.ci_low_bits <= 0.0 <= r.ci_high_bits, r


def test_seed_interval_of_a_critic_brackets_its_seeds():
    x, y = make_task("gaussian", dim_x=1, dim_y=1, mi_bits=1.0).sample(800, seed=0)
    r = estimate("infonce", x, y, steps=100, ci_resamples=3, seed=0)
    singles = [estimate("infonce", x, y, steps=100, ci=False, seed=s).mi_bits for s in range(3)]
    assert r.mi_bits == pytest.approx(np.mean(singles), abs=1e-12)
    assert r.ci_low_bits < min(singles) <= max(singles) < r.ci_high_bits


def test_subsample_interval_covers_gaussian_truth_at_about_the_nominal_rate():
    # 60 data sets from a 2+2 Gaussian (truth 1 bit), nominal 95% intervals of the exact-model
    # estimator: the count of misses is Binomial(60, 0.05) when calibrated, P(misses > 8) < 0.5%.
    task = make_task("gaussian", dim_x=2, dim_y=2, mi_bits=1.0)
    misses = 0
    for seed in range(60):
        x, y = task.sample(400, seed=seed)
        r = estimate("gaussian", x, y, seed=seed, ci_resamples=20)
        misses += not (r.ci_low_bits <= task.mi_bits <= r.ci_high_bits)
    assert misses <= 8


def test_generic_plane_matches_per_epoch_estimates():
    rng = np.random.default_rng(0)
    inputs = torch.as_tensor(rng.standard_normal((300, 4)))
    acts = torch.tanh(torch.as_tensor(rng.standard_normal((2, 300, 3))) + inputs[None, :, :3])
    labels = torch.as_tensor(rng.integers(0, 2, 300))
    plane = information_plane("ksg", acts, inputs, labels, ci=False)
    for e in range(2):
        assert plane["I_XT"]["mi_bits"][e] == pytest.approx(
            estimate("ksg", inputs, acts[e], ci=False).mi_bits
        )
        assert plane["I_TY"]["mi_bits"][e] == pytest.approx(
            estimate("ksg", acts[e], labels, ci=False).mi_bits
        )


@pytest.mark.parametrize("method", sorted(ESTIMATORS))
def test_clear_errors(method):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((50, 2)), rng.standard_normal((50, 2))
    with pytest.raises(ValueError, match="same number of samples"):
        estimate(method, x, y[:40])
    bad = x.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="x contains 1 non-finite"):
        estimate(method, bad, y)
    with pytest.raises(ValueError, match=r"y must have shape \(n, d\)"):
        estimate(method, x, y.reshape(50, 1, 2))


def test_too_few_samples_for_k_and_unknown_names():
    x = np.arange(4.0)
    with pytest.raises(ValueError, match="k=5"):
        estimate("ksg", x, x, k=5, ci=False)
    with pytest.raises(ValueError, match="unknown estimator method 'ksgg'"):
        estimate("ksgg", x, x)
    with pytest.raises(ValueError, match="metric must be one of"):
        estimate("ksg", x, x, metric="manhattan", ci=False)
    with pytest.raises(ValueError, match="bound must be one of"):
        estimate("kde", x, x, bound="middle", ci=False)
