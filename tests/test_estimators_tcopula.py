"""The t-copula estimator (infoplane.estimators.tcopula): its closed form, its fit, its invariance,
and ``method="auto"`` taking it on heavy-tailed data."""

from __future__ import annotations

import math

import numpy as np
import pytest
from infoplane.estimators import estimate
from infoplane.estimators.tcopula import (
    fit_t_copula,
    kendall_tau_matrix,
    nearest_correlation,
    t_mi_nats,
    t_tail_mi_nats,
)
from infoplane.tasks import StudentTTask, student_t_correction_nats
from scipy import special, stats

MONOTONE = [np.exp, lambda a: a**3, np.arctan, lambda a: np.sinh(2 * a) + 5]


def _t_logpdf(z: np.ndarray, corr: np.ndarray, dof: float) -> np.ndarray:
    d = corr.shape[0]
    quad = np.einsum("ij,jk,ik->i", z, np.linalg.inv(corr), z)
    return (
        special.gammaln(0.5 * (dof + d)) - special.gammaln(0.5 * dof) - 0.5 * d * math.log(dof * math.pi)
        - 0.5 * np.linalg.slogdet(corr)[1] - 0.5 * (dof + d) * np.log1p(quad / dof)
    )  # fmt: skip


@pytest.mark.parametrize(("dof", "dim_x", "dim_y", "rho"), [(1.0, 1, 1, 0.0), (2.5, 2, 1, 0.5), (4.0, 2, 2, 0.3)])
def test_closed_form_t_mi_matches_monte_carlo(dof, dim_x, dim_y, rho):
    """Mean of log p(x, y) / (p(x) p(y)) over 200,000 exact draws of the multivariate t."""
    d = dim_x + dim_y
    corr = np.eye(d)
    corr[0, dim_x] = corr[dim_x, 0] = rho
    rng = np.random.default_rng(0)
    n = 200_000
    z = rng.multivariate_normal(np.zeros(d), corr, size=n) / np.sqrt(rng.chisquare(dof, size=(n, 1)) / dof)
    pmi = (
        _t_logpdf(z, corr, dof)
        - _t_logpdf(z[:, :dim_x], corr[:dim_x, :dim_x], dof)
        - _t_logpdf(z[:, dim_x:], corr[dim_x:, dim_x:], dof)
    )
    se = pmi.std() / math.sqrt(n)
    assert t_mi_nats(corr, dof, dim_x) == pytest.approx(pmi.mean(), abs=4 * se + 1e-3)


def test_closed_form_matches_the_suite_truth_and_tends_to_the_gaussian():
    for dof in (0.5, 1.0, 3.0, 30.0):
        for dx, dy in ((1, 1), (2, 5), (25, 25)):
            assert t_tail_mi_nats(dof, dx, dy) == pytest.approx(student_t_correction_nats(dof, dx, dy), rel=1e-9)
    corr = nearest_correlation(np.array([[1.0, 0.6, 0.2], [0.6, 1.0, 0.1], [0.2, 0.1, 1.0]]))
    gaussian = -0.5 * math.log(np.linalg.det(corr) / np.linalg.det(corr[1:, 1:]))
    tails = [t_mi_nats(corr, dof, 1) - gaussian for dof in (10.0, 100.0, 1e4)]
    assert tails[0] > tails[1] > tails[2] > 0 and tails[2] < 1e-6  # falls like dx dy / (2 nu^2)
    assert t_mi_nats(corr, math.inf, 1) == pytest.approx(gaussian, rel=1e-12)


def test_kendall_matrix_matches_scipy_with_and_without_ties():
    rng = np.random.default_rng(2)
    a = rng.standard_normal((400, 3))
    a[:, 1] += a[:, 0]
    a[:, 2] = np.round(a[:, 2] + a[:, 0])  # ties
    tau = kendall_tau_matrix(a)
    for i, j in ((0, 1), (0, 2), (1, 2)):
        assert tau[i, j] == pytest.approx(stats.kendalltau(a[:, i], a[:, j]).statistic, abs=1e-12)
    r = nearest_correlation(np.array([[1.0, 0.9, -0.9], [0.9, 1.0, 0.9], [-0.9, 0.9, 1.0]]))  # not PSD
    assert np.allclose(np.diag(r), 1.0) and np.linalg.eigvalsh(r)[0] > 0


@pytest.fixture(scope="module")
def student_t_pair():
    """The suite's student_t_3x3_dof2 (identity scale: every bit of MI is in the tails), n = 5000."""
    task = StudentTTask(3, 3, 0.0, 2.0)
    return task, task.sample(5000, seed=0)


def test_recovers_student_t_mi_within_its_interval(student_t_pair):
    task, (x, y) = student_t_pair
    fit = fit_t_copula(np.column_stack([x, y]), 3)
    assert fit.dof == pytest.approx(2.0, rel=0.15)
    r = estimate("tcopula", x, y, ci_resamples=8)
    assert r.ci_low_bits <= task.mi_bits <= r.ci_high_bits, r
    assert abs(math.log(r.mi_bits / task.mi_bits)) < math.log(1.1)


def test_estimates_are_identical_after_per_coordinate_monotone_maps(student_t_pair):
    _, (x, y) = student_t_pair
    x, y = x[:1500, :2], y[:1500, :2]
    xt = np.column_stack([f(np.clip(x[:, j], -50, 50) / 10) for j, f in enumerate(MONOTONE[:2])])
    yt = np.column_stack([f(np.clip(y[:, j], -50, 50) / 10) for j, f in enumerate(MONOTONE[2:])])
    keep = np.all(np.abs(x) < 50, 1) & np.all(np.abs(y) < 50, 1)  # clip would make ties: keep the untouched rows
    a = estimate("tcopula", x[keep], y[keep], ci=False).mi_bits
    b = estimate("tcopula", xt[keep], yt[keep], ci=False).mi_bits
    assert a == b
    # a decreasing map flips the signs of a row and column of R: the same MI up to rounding
    c = estimate("tcopula", -x[keep], y[keep], ci=False).mi_bits
    assert c == pytest.approx(a, rel=1e-9)


def test_gaussian_data_fit_a_large_dof_and_the_gaussian_mi():
    rng = np.random.default_rng(1)
    z = rng.multivariate_normal([0, 0, 0], [[1, 0.7, 0.3], [0.7, 1, 0.2], [0.3, 0.2, 1]], size=4000)
    fit = fit_t_copula(z, 1)
    truth = -0.5 * math.log(np.linalg.det([[1, 0.7, 0.3], [0.7, 1, 0.2], [0.3, 0.2, 1]]) / (1 - 0.04))
    assert fit.dof > 30
    assert fit.mi_nats == pytest.approx(truth, abs=0.03)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cauchy_data_give_finite_estimates_and_intervals(seed):
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((300, 4)) / np.abs(rng.standard_normal((300, 1)))  # multivariate Cauchy
    z[:5] *= 1e12  # and a few enormous values
    r = estimate("tcopula", z[:, :2], z[:, 2:], ci_resamples=3, seed=seed)
    assert np.isfinite([r.mi_bits, r.ci_low_bits, r.ci_high_bits]).all(), r


def test_bad_arguments_are_errors_that_name_them():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((50, 2)), rng.standard_normal((50, 1))
    with pytest.raises(ValueError, match="max_dof"):
        estimate("tcopula", x, y, ci=False, max_dof=0.1)
    with pytest.raises(ValueError, match="t-copula estimator"):
        estimate("tcopula", x[:3], y[:3], ci=False)


def test_auto_takes_the_t_copula_on_tail_dependence_and_records_it(student_t_pair):
    task, (x, y) = student_t_pair
    xs, ys = np.arcsinh(x[:3000]), y[:3000]  # asinh: the tails are gone from the marginals, not from the copula
    r = estimate("auto", xs, ys)
    assert r.params["chosen"] == "tcopula" and r.params["tcopula_dof"] == pytest.approx(2.0, rel=0.25)
    assert set(r.diagnostics["candidates_bits"]) == {"ksg", "tcopula"}
    assert r.diagnostics["tcopula_tail_statistic"] > 100
    assert any("t copula fitted" in w for w in r.diagnostics["why"])
    assert r.ci_low_bits <= task.mi_bits <= r.ci_high_bits, r
    assert r.diagnostics["candidates_bits"]["ksg"] < 0.8 * task.mi_bits  # what auto took before


def test_auto_keeps_ksg_where_the_t_copula_is_the_wrong_model():
    """Normal x plus Cauchy noise: heavy tails, a clear tail statistic, but not a t copula; the
    t-copula estimate is low (0.47 bits against 0.56 at n = 5000), so KSG stays chosen."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2000, 1))
    y = x + 0.5 * rng.standard_cauchy((2000, 1))
    r = estimate("auto", x, y)
    assert r.diagnostics["tcopula_tail_statistic"] > 5.41
    assert r.params["chosen"] == "ksg"
    assert r.diagnostics["candidates_bits"]["tcopula"] < r.diagnostics["candidates_bits"]["ksg"]
