"""KDE bounds and matrix-based Renyi MI against direct numpy implementations of their formulas."""

import math

import numpy as np
import pytest
import torch
from infoplane.estimators import estimate, information_plane
from infoplane.estimators.kde import _query_points
from infoplane.estimators.renyi import kernel_width
from scipy.special import logsumexp

LN2 = math.log(2)


def saxe_kde_bits(t, labels, s2, bound):
    """The pairwise-distance bounds as in the code of Saxe et al. (2018), numpy, O(n^2) memory."""
    var = s2 * (4.0 if bound == "lower" else 1.0)

    def h(points):
        d2 = ((points[:, None, :] - points[None, :, :]) ** 2).sum(-1)
        return -np.mean(logsumexp(-d2 / (2 * var), axis=1) - np.log(len(points)))

    h_t = h(t)
    h_t_y = sum(np.mean(labels == c) * h(t[labels == c]) for c in np.unique(labels))
    return h_t / LN2, (h_t - h_t_y) / LN2


@pytest.mark.parametrize("bound", ["upper", "lower"])
@pytest.mark.parametrize(("precision", "tol"), [("float64", 1e-9), ("float32", 1e-5)])
@pytest.mark.parametrize("chunk_size", [37, None], ids=["row-blocks", "symmetric-blocks"])
def test_kde_plane_matches_numpy_reference(bound, precision, tol, chunk_size):
    """Both paths: rows in blocks of 37 (an explicit chunk_size) and the symmetric square blocks of 256,
    600 points in three blocks, classes of unequal size in random order so that blocks hold several."""
    rng = np.random.default_rng(0)
    n = 600
    acts = np.tanh(rng.standard_normal((3, n, 4)) * np.array([0.5, 1.0, 3.0])[:, None, None])
    labels = rng.choice(3, size=n, p=[0.2, 0.5, 0.3])
    plane = information_plane(
        "kde", torch.as_tensor(acts), torch.zeros(n, 1), torch.as_tensor(labels), bound=bound, ci=False,
        chunk_size=chunk_size, precision=precision,
    )  # fmt: skip
    for e in range(3):
        i_xt, i_ty = saxe_kde_bits(acts[e], labels, 0.1, bound)
        assert float(plane["I_XT"]["mi_bits"][e]) == pytest.approx(i_xt, abs=tol)
        assert float(plane["I_TY"]["mi_bits"][e]) == pytest.approx(i_ty, abs=tol)
        one = estimate("kde", acts[e], labels, bound=bound, ci=False, precision=precision).mi_bits
        assert one == pytest.approx(i_ty, abs=tol)


def test_kde_query_subset_is_the_class_weighted_mean_over_those_points_and_close_to_the_full_bound():
    """n_query averages the per-point terms over a class-stratified subset; the mixture keeps all n points."""
    rng = np.random.default_rng(1)
    n, m = 400, 100
    acts = np.tanh(rng.standard_normal((1, n, 3)) * 2.0)
    labels = rng.integers(0, 3, n)
    plane = information_plane(
        "kde",
        torch.as_tensor(acts),
        torch.zeros(n, 1),
        torch.as_tensor(labels),
        ci=False,
        n_query=m,
        seed=5,
        precision="float64",
    )
    query = _query_points(torch.as_tensor(labels), m, seed=5).numpy()
    n_c = np.bincount(labels)
    assert np.abs(np.bincount(labels[query]) - m * n_c / n).max() <= 0.5  # stratified by class
    t = acts[0]
    d2 = ((t[:, None, :] - t[None, :, :]) ** 2).sum(-1)
    per_point = -(logsumexp(-d2 / 0.2, axis=1) - np.log(n))  # H(T) terms, nats, all points i
    same = labels[:, None] == labels[None, :]
    per_point_c = -(logsumexp(np.where(same, -d2 / 0.2, -np.inf), axis=1) - np.log(n_c[labels]))  # H(T|Y) terms

    def class_weighted(v):  # sum_c p_c mean over the query points of class c
        return sum(n_c[c] / n * v[query][labels[query] == c].mean() for c in range(3))

    assert float(plane["I_XT"]["mi_bits"][0]) == pytest.approx(class_weighted(per_point) / LN2, abs=1e-9)
    i_ty = class_weighted(per_point) - class_weighted(per_point_c)
    assert float(plane["I_TY"]["mi_bits"][0]) == pytest.approx(i_ty / LN2, abs=1e-9)
    # and it is a Monte Carlo estimate of the full bound: within 4 standard errors
    full, _ = saxe_kde_bits(t, labels, 0.1, "upper")
    se = per_point.std() / np.sqrt(m) * np.sqrt(1 - m / n) / LN2
    assert abs(float(plane["I_XT"]["mi_bits"][0]) - full) < 4 * se


def test_kde_upper_is_above_lower_and_adaptive_is_scale_free():
    rng = np.random.default_rng(1)
    acts = torch.as_tensor(rng.standard_normal((2, 300, 3)))
    labels = torch.as_tensor(rng.integers(0, 3, 300))
    up = information_plane("kde", acts, acts[0], labels, bound="upper", ci=False)
    low = information_plane("kde", acts, acts[0], labels, bound="lower", ci=False)
    assert torch.all(up["I_XT"]["mi_bits"] >= low["I_XT"]["mi_bits"])
    a = information_plane("kde", acts, acts[0], labels, adaptive=True, ci=False)
    b = information_plane("kde", 7.0 * acts, acts[0], labels, adaptive=True, ci=False)
    assert torch.allclose(a["I_XT"]["mi_bits"], b["I_XT"]["mi_bits"])
    # With adaptive noise at relative variance 0.1, unit-variance activity is Saxe's s^2 = 0.1.
    # Var(T) is the mean over units of each unit's variance at that epoch.
    centred = acts - acts.mean(dim=1, keepdim=True)
    unit = centred / centred.reshape(2, -1).std(dim=1, unbiased=False)[:, None, None]
    c = information_plane("kde", unit, acts[0], labels, noise_variance=0.1, ci=False)
    assert torch.allclose(a["I_XT"]["mi_bits"], c["I_XT"]["mi_bits"])


def test_kde_plane_intervals_bracket_nothing_strange():
    rng = np.random.default_rng(2)
    acts = torch.as_tensor(np.tanh(rng.standard_normal((2, 300, 3))))
    plane = information_plane("kde", acts, acts[0], torch.as_tensor(rng.integers(0, 2, 300)), ci_resamples=10)
    for q in ("I_XT", "I_TY"):
        assert torch.all(plane[q]["ci_low_bits"] <= plane[q]["ci_high_bits"])
        assert plane[q]["ci_low_bits"].shape == (2,)


def numpy_renyi_bits(x, y, alpha, sx, sy):
    def gram(a, s):
        d2 = ((a[:, None, :] - a[None, :, :]) ** 2).sum(-1)
        return np.exp(-d2 / (2 * s * s))

    def s_alpha(m):
        lam = np.clip(np.linalg.eigvalsh(m / np.trace(m)), 0, None)
        return np.log2(np.sum(lam**alpha)) / (1 - alpha)

    kx, ky = gram(x, sx), gram(y, sy)
    return s_alpha(kx) + s_alpha(ky) - s_alpha(kx * ky)


@pytest.mark.parametrize("alpha", [1.01, 2.0, 3.0])
def test_renyi_matches_numpy_eigenvalue_reference(alpha):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((150, 3))
    y = x[:, :2] + rng.standard_normal((150, 2))
    sx = kernel_width(torch.as_tensor(x - x.mean(0)))
    sy = kernel_width(torch.as_tensor(y - y.mean(0)))
    got = estimate("renyi", x, y, alpha=alpha, ci=False, chunk_size=40).mi_bits
    assert got == pytest.approx(numpy_renyi_bits(x - x.mean(0), y - y.mean(0), alpha, sx, sy), abs=1e-8)


def test_kde_benchmark_direct_formula_agrees_with_the_batched_plane():
    """The benchmark's reference (the formula per epoch) and the library give the same bounds."""
    from infoplane.benchmarks.kde_speed import direct_plane_nats
    from infoplane.estimators.kde import kde_plane_nats

    rng = np.random.default_rng(3)
    t = torch.as_tensor(np.tanh(rng.standard_normal((2, 150, 4)) * 2.0))
    labels = torch.as_tensor(rng.integers(0, 2, 150))
    direct = direct_plane_nats(t, labels).numpy()
    batched = kde_plane_nats(t, labels, precision="float64")
    assert batched["I_XT"].numpy() == pytest.approx(direct[:, 0], abs=1e-9)
    assert batched["I_TY"].numpy() == pytest.approx(direct[:, 1], abs=1e-9)


@pytest.mark.parametrize("precision", ["float32", "float64"])
def test_kde_with_repeated_activations_matches_numpy_reference_and_the_torch_blocks(precision):
    """The CPU path folds identical activation vectors (saturated or dead units) into one kernel row
    with class counts: saturated layers with few distinct points, and epochs whose numbers of
    distinct points differ (padded in one step), against the direct formula and the torch blocks."""
    from infoplane.estimators.kde import _class_sums_symmetric

    rng = np.random.default_rng(1)
    n = 700
    raw = np.tanh(rng.standard_normal((4, n, 3)) * 2.0)
    acts = raw.copy()
    acts[1] = np.round(raw[1] * 3) / 3  # 7^3 grid points at most: many repeats
    acts[2] = np.sign(raw[2])  # 8 distinct points
    acts[3, : n // 2] = acts[3, 0]  # half the points at one place, the rest distinct
    labels = rng.choice(2, size=n, p=[0.4, 0.6])
    assert len(np.unique(acts[2], axis=0)) <= 8
    tol = 1e-9 if precision == "float64" else 1e-5
    plane = information_plane(
        "kde", torch.as_tensor(acts), torch.zeros(n, 1), torch.as_tensor(labels), ci=False, precision=precision
    )
    for e in range(4):
        i_xt, i_ty = saxe_kde_bits(acts[e], labels, 0.1, "upper")
        assert float(plane["I_XT"]["mi_bits"][e]) == pytest.approx(i_xt, abs=tol)
        assert float(plane["I_TY"]["mi_bits"][e]) == pytest.approx(i_ty, abs=tol)
    # the kernel sums themselves, both engines, with 3 blocks of 256
    dtype = torch.float64 if precision == "float64" else torch.float32
    u = torch.as_tensor(acts) / math.sqrt(0.2)
    sq = (u * u).sum(2, keepdim=True)
    left = torch.cat([u, -sq, torch.ones_like(sq)], 2).to(dtype)
    right = torch.cat([2 * u, torch.ones_like(sq), -sq], 2).to(dtype).transpose(1, 2)
    cls = torch.as_tensor(labels)
    by_numpy = _class_sums_symmetric(left, right, cls, 2, engine="numpy")
    by_torch = _class_sums_symmetric(left, right, cls, 2, engine="torch")
    torch.testing.assert_close(by_numpy, by_torch, rtol=1e-5 if precision == "float32" else 1e-12, atol=0)
