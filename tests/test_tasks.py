"""Ground-truth tasks: closed-form MI against Monte Carlo and numerical integration."""

import math

import numpy as np
import pytest
from infoplane.tasks import (
    TASKS,
    AdditiveUniformTask,
    GaussianTask,
    StudentTTask,
    additive_uniform_mi_nats,
    gaussian_mi_nats,
    make_task,
)
from scipy import integrate, stats

LN2 = math.log(2)


@pytest.mark.parametrize(("dx", "dy", "mi"), [(1, 1, 1.0), (5, 5, 2.0), (3, 7, 0.5)])
def test_gaussian_task_mi_matches_its_sample_covariance(dx, dy, mi):
    task = GaussianTask(dx, dy, mi_bits=mi)
    x, y = task.sample(200_000, seed=0)
    cov = np.cov(np.hstack([x, y]).T)
    # sampling error of the plug-in Gaussian MI at n = 2e5 is ~0.005 bits
    assert gaussian_mi_nats(cov, dx) / LN2 == pytest.approx(mi, abs=0.02)
    assert gaussian_mi_nats(task.covariance, dx) / LN2 == pytest.approx(mi, abs=1e-12)


def test_student_t_mi_matches_monte_carlo():
    task = StudentTTask(dim_x=2, dim_y=1, gaussian_mi_bits=0.5, dof=4)
    x, y = task.sample(200_000, seed=1)
    cov = task._gauss.covariance
    joint = stats.multivariate_t(np.zeros(3), cov, df=4)
    px = stats.multivariate_t(np.zeros(2), cov[:2, :2], df=4)
    py = stats.multivariate_t(np.zeros(1), cov[2:, 2:], df=4)
    pmi = joint.logpdf(np.hstack([x, y])) - px.logpdf(x) - py.logpdf(y)
    mc, se = pmi.mean() / LN2, pmi.std() / LN2 / math.sqrt(len(pmi))
    assert abs(task.mi_bits - mc) < 4 * se + 1e-3
    assert task.mi_bits > 0.5  # heavy tails add information


@pytest.mark.parametrize("width", [0.3, 1.0, 2.5])
def test_additive_uniform_mi_matches_integration(width):
    def p_y(v):  # density of X + N: the overlap of [v - w/2, v + w/2] with [0, 1], over w
        return max(0.0, min(1.0, v + width / 2) - max(0.0, v - width / 2)) / width

    lo, hi = -width / 2, 1 + width / 2

    def integrand(v):
        p = p_y(v)
        return p * math.log(p) if p > 0 else 0.0

    kinks = sorted([width / 2, 1 - width / 2])  # where the trapezoid's ramps meet its plateau
    h_y = -integrate.quad(integrand, lo, hi, limit=400, points=kinks)[0]
    # quadrature of p log p near p = 0 is good to ~1e-6
    assert additive_uniform_mi_nats(width) == pytest.approx(h_y - math.log(width), abs=1e-5)
    task = AdditiveUniformTask(dim=3, width=width)
    assert task.mi_bits == pytest.approx(3 * additive_uniform_mi_nats(width) / LN2)
    x, y = task.sample(1000, seed=0)
    assert np.all(np.abs(y - x) <= width / 2)


@pytest.mark.parametrize("transform", ["normal_cdf", "asinh", "cube", "spiral"])
def test_transforms_are_injective_maps_of_the_gaussian_sample(transform):
    task = make_task(transform, dim_x=2, dim_y=3, mi_bits=1.0)
    base = make_task("gaussian", dim_x=2, dim_y=3, mi_bits=1.0)
    assert task.mi_bits == base.mi_bits
    x, y = task.sample(500, seed=3)
    bx, by = base.sample(500, seed=3)
    assert x.shape == bx.shape and y.shape == by.shape
    # injective: distinct inputs stay distinct, and the spiral keeps the norm (so it inverts)
    assert len(np.unique(np.round(x, 12), axis=0)) == 500
    if transform == "spiral":
        np.testing.assert_allclose(np.linalg.norm(x, axis=1), np.linalg.norm(bx, axis=1))


def test_registry_and_errors():
    assert {"gaussian", "student_t", "additive_uniform", "spiral"} <= set(TASKS)
    a = make_task("gaussian", dim_x=2, dim_y=2).sample(10, seed=5)
    b = make_task("gaussian", dim_x=2, dim_y=2).sample(10, seed=5)
    np.testing.assert_array_equal(a[0], b[0])
    with pytest.raises(ValueError, match="unknown task 'gausian'"):
        make_task("gausian")
    with pytest.raises(ValueError, match="bad parameters for task 'gaussian'"):
        make_task("gaussian", dims=3)
    with pytest.raises(ValueError, match="n_interacting"):
        GaussianTask(2, 2, n_interacting=3)
