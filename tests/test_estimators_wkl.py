"""Weighted Kozachenko-Leonenko: weights that satisfy their constraints, closed-form Gaussian
entropies in 1 to 10 dimensions, and MI with continuous and label y."""

import math

import numpy as np
import pytest
import torch
from infoplane.estimators import estimate
from infoplane.estimators.wkl import wkl_entropy_bits, wkl_weights
from infoplane.tasks import GaussianTask

LN2 = math.log(2)


@pytest.mark.parametrize("d", [1, 3, 4, 7, 8, 10, 12])
def test_weights_sum_to_one_and_cancel_the_bias_terms(d):
    w = torch.tensor(wkl_weights(d, 5 if d < 12 else 12), dtype=torch.float64)
    j = torch.arange(1, len(w) + 1, dtype=torch.float64)
    assert float(w.sum()) == pytest.approx(1.0, abs=1e-10)
    for ell in range(1, d // 4 + 1):
        ratio = torch.exp(torch.lgamma(j + 2 * ell / d) - torch.lgamma(j))
        assert float((w * ratio).sum()) == pytest.approx(0.0, abs=1e-8)
    if d <= 3:  # no constraint: the plain estimator with the k-th neighbour
        assert w.tolist() == [0.0] * (len(w) - 1) + [1.0]


def test_k_too_small_for_the_dimension_names_k():
    with pytest.raises(ValueError, match=r"k=1 is too small .* d=8"):
        wkl_weights(8, 1)


@pytest.mark.parametrize("d", range(1, 11))
def test_entropy_of_correlated_gaussians(d):
    rng = np.random.default_rng(d)
    a = rng.standard_normal((d, d))
    cov = a @ a.T + 0.5 * np.eye(d)
    truth = 0.5 * (d * math.log(2 * math.pi * math.e) + np.linalg.slogdet(cov)[1]) / LN2
    est = [wkl_entropy_bits(rng.multivariate_normal(np.zeros(d), cov, size=4000), k=5) for _ in range(3)]
    # unbiased to first order; the spread of one estimate at n = 4000 is ~0.02 d bits (0.3 at d = 10)
    assert np.mean(est) == pytest.approx(truth, abs=0.05 + 0.05 * d)


def test_whitening_makes_the_estimate_scale_free():
    x = np.random.default_rng(0).standard_normal((2000, 3)) * np.array([1e-3, 1.0, 1e3])
    truth = 0.5 * (3 * math.log(2 * math.pi * math.e) + 2 * math.log(1.0)) / LN2  # log(1e-3 * 1e3) = 0
    assert wkl_entropy_bits(x, k=5) == pytest.approx(truth, abs=0.15)


@pytest.mark.parametrize(("dim", "mi"), [(1, 1.0), (4, 2.0)])
def test_mi_of_gaussians(dim, mi):
    x, y = GaussianTask(dim, dim, mi_bits=mi).sample(4000, seed=3)
    r = estimate("wkl", x, y, device="cpu", ci_resamples=5)
    assert r.mi_bits == pytest.approx(mi, abs=0.15 + 0.05 * mi)
    assert r.ci_low_bits <= r.ci_high_bits


def test_mi_with_labels_is_the_entropy_drop_within_classes():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, size=6000)
    x = rng.standard_normal((6000, 1)) * 0.3 + 4.0 * labels[:, None]  # separated: I = H(Y) = 1 bit
    r = estimate("wkl", x, labels, device="cpu", ci=False)
    assert r.mi_bits == pytest.approx(1.0, abs=0.05)
