"""kNN estimators against scikit-learn, a scipy cKDTree KSG, a naive KSG-2 and closed-form truths."""

import math

import numpy as np
import pytest
import torch
from infoplane.benchmarks.reference import ckdtree_ksg_bits
from infoplane.estimators import estimate
from infoplane.estimators.knn import kl_entropy_bits, ksg_mi_bits, mixed_ksg_mi_bits
from scipy import integrate, stats
from sklearn.feature_selection import mutual_info_classif, mutual_info_regression

CPU = torch.device("cpu")
LN2 = math.log(2)


def t(a):
    return torch.as_tensor(np.asarray(a, dtype=np.float64).reshape(len(a), -1))


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("rho", [0.3, 0.9])
def test_ksg_matches_sklearn_on_1d(seed, rho):
    rng = np.random.default_rng(seed)
    n = 1000
    x = rng.standard_normal((n, 1))
    y = rho * x[:, 0] + math.sqrt(1 - rho**2) * rng.standard_normal(n)
    expected = mutual_info_regression(x, y, n_neighbors=3, random_state=seed)[0] / LN2
    # Reproduce scikit-learn's preprocessing on the same random stream (x jitter first, then y).
    r = np.random.RandomState(seed)
    xs = x / x.std(0)
    xs = xs + 1e-10 * np.maximum(1, np.mean(np.abs(xs), axis=0)) * r.standard_normal(size=xs.shape)
    ys = y / y.std()
    ys = ys + 1e-10 * max(1, np.mean(np.abs(ys))) * r.standard_normal(size=n)
    got = ksg_mi_bits(t(xs), t(ys), k=3, standardize=False)
    assert abs(got - expected) < 1e-3
    # And through the public API with our own standardisation: the 1e-10 jitter does not matter.
    assert abs(estimate("ksg", x, y, k=3, ci=False).mi_bits - expected) < 1e-3


def test_mixed_matches_sklearn_classif():
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 3, size=1500)
    x = labels + rng.standard_normal(1500)
    expected = mutual_info_classif(x[:, None], labels, n_neighbors=3, random_state=0)[0] / LN2
    got = estimate("ksg", x, labels, k=3, ci=False).mi_bits  # labels dispatch to Ross (2014)
    assert abs(got - expected) < 1e-3


@pytest.mark.parametrize("metric_dims", [(3, 2), (10, 10)])
def test_ksg_matches_ckdtree_reference(metric_dims):
    dx, dy = metric_dims
    rng = np.random.default_rng(5)
    x = rng.standard_normal((800, dx))
    y = x[:, :dy] + rng.standard_normal((800, dy))
    expected = ckdtree_ksg_bits(x, y, k=4)
    got = ksg_mi_bits(t(x), t(y), k=4, standardize=False, precision="float64", chunk_size=97)
    assert abs(got - expected) < 1e-9
    # float32 distances (the default) change nothing beyond rounding of near-ties.
    assert abs(ksg_mi_bits(t(x), t(y), k=4, standardize=False) - expected) < 1e-3


def naive_ksg2_bits(x, y, k):
    """Kraskov et al. (2004) eq. 9 written out in numpy, O(n^2) memory."""
    from scipy.special import digamma

    n = len(x)
    dx = np.abs(x[:, None, :] - x[None, :, :]).max(-1)
    dy = np.abs(y[:, None, :] - y[None, :, :]).max(-1)
    np.fill_diagonal(dx, np.inf)
    np.fill_diagonal(dy, np.inf)
    joint = np.maximum(dx, dy)
    idx = np.argsort(joint, axis=1)[:, :k]
    ex = np.take_along_axis(dx, idx, 1).max(1)
    ey = np.take_along_axis(dy, idx, 1).max(1)
    nx = (dx <= ex[:, None]).sum(1)
    ny = (dy <= ey[:, None]).sum(1)
    return (digamma(k) - 1 / k + digamma(n) - np.mean(digamma(nx) + digamma(ny))) / LN2


def test_ksg_algorithm_2_matches_naive_numpy():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((300, 2))
    y = np.sin(x[:, :1]) + 0.5 * rng.standard_normal((300, 1))
    got = ksg_mi_bits(t(x), t(y), k=3, algorithm=2, standardize=False, precision="float64", chunk_size=50)
    assert abs(got - naive_ksg2_bits(x, y, 3)) < 1e-9


def test_mixed_recovers_numerically_integrated_truth():
    # X | Y=c ~ N(mu_c, 1), Y uniform on 3 classes: I = h(X) - h(X|Y), h(X) by quadrature.
    mus = np.array([-1.5, 0.0, 1.5])

    def density(v):
        return stats.norm.pdf(v - mus[:, None]).mean(axis=0)

    h_x = -integrate.quad(lambda v: density(np.array([v]))[0] * np.log(density(np.array([v]))[0]), -12, 12)[0]
    truth = (h_x - 0.5 * math.log(2 * math.pi * math.e)) / LN2
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, size=3000)
    x = mus[labels] + rng.standard_normal(3000)
    got = mixed_ksg_mi_bits(t(x), torch.as_tensor(labels), k=5)
    # sd of the estimate at n=3000 is about 0.015 bits (over seeds); 0.06 is 4 sd.
    assert abs(got - truth) < 0.06


@pytest.mark.parametrize("metric", ["euclidean", "chebyshev"])
def test_kozachenko_leonenko_recovers_gaussian_entropy(metric):
    rng = np.random.default_rng(1)
    cov = np.array([[1.0, 0.5, 0.0], [0.5, 2.0, 0.3], [0.0, 0.3, 0.5]])
    x = rng.multivariate_normal(np.zeros(3), cov, size=4000)
    truth = 0.5 * np.linalg.slogdet(2 * math.pi * math.e * cov)[1] / LN2
    # KL in 3-d at n=4000 has sd ~0.03 bits and bias < 0.05 bits (Kraskov et al. 2004, fig. 3).
    assert abs(kl_entropy_bits(x, k=3, metric=metric) - truth) < 0.12


def test_ksg_memory_is_bounded_by_chunks():
    # 20,000 x 50 would need 3.2 GB for one float64 distance matrix; blocks of rows keep it small.
    from infoplane.estimators.base import row_chunks

    blocks = list(row_chunks(20_000, 20_000))
    assert max(b.stop - b.start for b in blocks) * 20_000 <= (1 << 19) + 20_000
    assert sum(b.stop - b.start for b in blocks) == 20_000


def test_ksg_precision_and_chunking_do_not_change_the_estimate():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((700, 4))
    y = x[:, :2] ** 3 + rng.standard_normal((700, 2))
    a = ksg_mi_bits(t(x), t(y), k=5, precision="float64", chunk_size=700)
    b = ksg_mi_bits(t(x), t(y), k=5, precision="float64", chunk_size=13)
    assert a == pytest.approx(b, abs=1e-12)


def test_row_blocks_are_larger_on_a_gpu():
    # Small cache-sized blocks on CPU; on a GPU, few large kernels (n = 100,000 in 600 blocks).
    from infoplane.estimators.base import row_chunks

    cpu = list(row_chunks(100_000, 100_000, device="cpu"))
    gpu = list(row_chunks(100_000, 100_000, device="cuda"))
    assert cpu[0].stop * 100_000 <= (1 << 19) + 100_000 * 16
    assert len(gpu) == 599 and gpu[0].stop == 167


def test_speed_table_rows_agree_with_their_references():
    # The speed benchmark's mi_bits column: the screened and the float KSG paths give the same
    # estimate (20 coordinates, so the screened path serves "ksg"), and in 1-d KSG agrees with
    # scikit-learn's (the same estimator; scikit-learn adds a 1e-10 jitter).
    from infoplane.benchmarks.speed import DEFAULT_METHODS, speed_grid

    methods = {name: DEFAULT_METHODS[name] for name in ("ksg", "ksg_blockwise")}
    table = speed_grid(methods, sample_sizes=(400,), dims=(1, 10), references=("sklearn",), repeats=1, device="cpu")
    assert bool((table["seconds"] > 0).all())
    mi = table.set_index(["estimator", "implementation", "dim_x"])["mi_bits"]
    assert mi["ksg", "infoplane", 10] == pytest.approx(mi["ksg_blockwise", "infoplane", 10], abs=1e-12)
    assert mi["ksg", "infoplane", 1] == pytest.approx(mi["ksg", "sklearn", 1], abs=1e-3)
    assert len(table) == 2 * 2 + 1
