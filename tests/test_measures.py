"""Measures other than Shannon MI (infoplane.measures): DSE/DSMI, condition numbers, CS-QMI, WDM.

Reference values were computed once with the authors' packages and stored here as literals; neither
is needed to run these tests:
- DSE/DSMI: ``dse-dsmi`` 1.1 from PyPI (numpy 2.4.6, scikit-learn 1.9.1), on :func:`_points`.
- CS-QMI: the formula of ``CS_QMI`` in ``loss_cs.py`` of SJYuCNEL/Cauchy-Schwarz-Information-Bottleneck
  (Yu et al. 2024), evaluated in float64 on :func:`_points`.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from infoplane.estimators import ESTIMATORS, PLANE_METHODS, estimate, information_plane
from infoplane.measures import (
    activation_condition_number,
    condition_number,
    cs_qmi_bits,
    diffusion_spectral_entropy_bits,
    diffusion_spectral_mi_bits,
    gaussian_cs_qmi_nats,
    wasserstein_dependency,
    weight_condition_number,
)

torch.set_num_threads(1)


def _points(n: int, d: int) -> np.ndarray:
    """Fixed, RNG-free data: column j is sin(0.37 i + j)(1 + j/2) + cos(1.7 i (j + 1)) / 10."""
    i = np.arange(n, dtype=np.float64)
    return np.stack([np.sin(0.37 * i + j) * (1 + 0.5 * j) + 0.1 * np.cos(1.7 * i * (j + 1)) for j in range(d)], 1)


def _gaussian(n: int, rho: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    xy = np.random.default_rng(seed).multivariate_normal([0, 0], [[1, rho], [rho, 1]], size=n)
    return xy[:, :1], xy[:, 1:]


# ---------------------------------------------------------------- diffusion spectral entropy


# (sigma, t) -> dse_dsmi.diffusion_spectral_entropy(_points(60, 3), gaussian_kernel_sigma=sigma, t=t)
DSE_REFERENCE = {
    (1.0, 1): 3.036452033028608,
    (0.5, 3): 3.1847416146412355,
    (10.0, 1): 0.2548685520524333,
    (2.0, 2): 1.1033330651087243,
}


@pytest.mark.parametrize(("sigma", "t"), sorted(DSE_REFERENCE))
def test_dse_matches_reference_package(sigma, t):
    z = _points(60, 3)
    assert diffusion_spectral_entropy_bits(z, sigma=sigma, t=t) == pytest.approx(DSE_REFERENCE[sigma, t], abs=1e-9)
    assert diffusion_spectral_entropy_bits(torch.as_tensor(z), sigma=sigma, t=t) == pytest.approx(
        DSE_REFERENCE[sigma, t], abs=1e-9
    )


def test_dsmi_matches_reference_package():
    """dse_dsmi.diffusion_spectral_mutual_information(z, reference, ...)[0] for labels, a scalar and a vector."""
    z = _points(60, 3)
    mod3 = np.arange(60) % 3
    assert diffusion_spectral_mi_bits(z, mod3, sigma=1.0, t=1) == pytest.approx(-0.14970418612583739, abs=1e-9)
    quadrant = (z[:, 0] > 0).astype(np.int64) + (z[:, 1] > 0)
    value = diffusion_spectral_mi_bits(z, quadrant, sigma=1.0, t=2, n_repetitions=3, seed=4)
    assert value == pytest.approx(1.0279022452724538, abs=1e-9)
    scalar = _points(60, 5)[:, 4]  # binned into 4 equal-width bins
    assert diffusion_spectral_mi_bits(z, scalar, sigma=1.0, n_clusters=4) == pytest.approx(1.116459769241698, abs=1e-9)
    vector = _points(60, 5)[:, 3:]  # spectral clustering into 3 clusters
    assert diffusion_spectral_mi_bits(z, vector, sigma=1.0, n_clusters=3) == pytest.approx(1.1761752300599513, abs=1e-9)


def _clusters(k: int, per: int, spread: float = 1e-3, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    centres = 10.0 * torch.eye(k, dtype=torch.float64)
    labels = torch.arange(k).repeat_interleave(per)
    return centres[labels] + spread * torch.randn(k * per, k, generator=g, dtype=torch.float64), labels


@pytest.mark.parametrize("k", [2, 3, 5])
def test_dse_of_k_tight_clusters_is_log2_k(k):
    z, _ = _clusters(k, 20)
    assert diffusion_spectral_entropy_bits(z, sigma=1.0, t=10) == pytest.approx(math.log2(k), abs=1e-3)
    # t = 0+ counts every eigenvalue alike: log2 n; DSE lies between
    assert diffusion_spectral_entropy_bits(z, sigma=1.0, t=1e-9) == pytest.approx(math.log2(k * 20), abs=1e-3)


def test_dsmi_near_zero_for_independent_labels_and_large_for_cluster_labels():
    z, labels = _clusters(3, 30, spread=0.3)
    random_labels = torch.randint(0, 3, (90,), generator=torch.Generator().manual_seed(1))
    independent = diffusion_spectral_mi_bits(z, random_labels, sigma=1.0, t=1)
    dependent = diffusion_spectral_mi_bits(z, labels, sigma=1.0, t=1)
    assert abs(independent) < 0.1
    assert dependent > 1.0 and dependent > 10 * abs(independent)


@pytest.mark.filterwarnings("ignore:Graph is not fully connected")  # spectral clustering of 3 far-apart blobs
def test_dsmi_registered_and_plane():
    assert "dsmi" in ESTIMATORS and "dsmi" in PLANE_METHODS and ESTIMATORS["dsmi"].ci == "none"
    z, labels = _clusters(3, 20, spread=0.3)
    r = estimate("dsmi", z, labels, sigma=1.0, device="cpu")
    assert r.mi_bits == pytest.approx(diffusion_spectral_mi_bits(z, labels, sigma=1.0)) and r.ci_low_bits is None
    acts = torch.stack([z, z * 0.5, torch.zeros_like(z) + 1e-3 * z])  # (E=3, n, d)
    plane = information_plane("dsmi", acts, z, labels, sigma=1.0, ci=True, seed=0)
    assert set(plane) == {"I_XT", "I_TY"} and plane["I_TY"]["mi_bits"].shape == (3,)
    assert plane["I_TY"]["mi_bits"][0] == pytest.approx(r.mi_bits)
    assert abs(float(plane["I_TY"]["mi_bits"][2])) < 0.01  # a collapsed layer: no diffusion structure left
    with pytest.raises(ValueError, match="protocol"):
        information_plane("dsmi", acts, z, labels, protocol=True)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"sigma": 0.0}, "sigma must be a finite number > 0, got 0.0"),
        ({"sigma": float("inf")}, "sigma must be a finite number > 0, got inf"),
        ({"t": -1}, "t must be a finite number > 0, got -1"),
        ({"t": float("nan")}, "t must be a finite number > 0, got nan"),
    ],
)
def test_dse_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        diffusion_spectral_entropy_bits(_points(10, 2), **kwargs)
    with pytest.raises(ValueError, match=match):
        diffusion_spectral_mi_bits(_points(10, 2), np.arange(10) % 2, **kwargs)


def test_dse_bad_data():
    z = _points(10, 2)
    z[3, 1] = np.nan
    with pytest.raises(ValueError, match="z contains 1 non-finite"):
        diffusion_spectral_entropy_bits(z)
    with pytest.raises(ValueError, match="at least 2 rows of z, got n=1"):
        diffusion_spectral_entropy_bits(_points(1, 2))
    with pytest.raises(ValueError, match="n_repetitions must be an integer >= 1, got 0"):
        diffusion_spectral_mi_bits(_points(10, 2), np.arange(10) % 2, n_repetitions=0)
    with pytest.raises(ValueError, match="same number of rows, got 10 and 9"):
        diffusion_spectral_mi_bits(_points(10, 2), np.arange(9) % 2)


# ---------------------------------------------------------------- condition numbers


def _with_singular_values(s, m: int, n: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    u, _ = torch.linalg.qr(torch.randn(m, m, generator=g, dtype=torch.float64))
    v, _ = torch.linalg.qr(torch.randn(n, n, generator=g, dtype=torch.float64))
    k = min(m, n)
    return u[:, :k] @ torch.diag(torch.as_tensor(s, dtype=torch.float64)) @ v[:, :k].T


@pytest.mark.parametrize(("m", "n"), [(4, 4), (6, 3), (3, 6)])
def test_condition_number_of_known_singular_values(m, n):
    s = [8.0] + [2.0] * (min(m, n) - 2) + [1.0]
    a = _with_singular_values(s, m, n)
    assert float(condition_number(a)) == pytest.approx(8.0, rel=1e-10)
    assert weight_condition_number(a) == pytest.approx(8.0, rel=1e-10)
    assert float(condition_number(3.0 * a)) == pytest.approx(8.0, rel=1e-10)  # scale-free
    assert float(condition_number(torch.eye(5))) == 1.0


def test_condition_number_batched_conv_and_singular():
    a = torch.stack([_with_singular_values([5.0, 1.0], 2, 2, seed=i) for i in range(3)])
    assert condition_number(a).tolist() == pytest.approx([5.0] * 3)
    conv = _with_singular_values([9.0, 3.0, 1.0], 3, 12).reshape(3, 3, 2, 2)  # (out, in, kh, kw)
    assert weight_condition_number(conv) == pytest.approx(9.0)
    assert weight_condition_number(_with_singular_values([2.0, 0.0], 2, 3)) == math.inf  # rank-deficient
    with pytest.raises(ValueError, match="all zeros"):
        condition_number(torch.zeros(3, 3))
    with pytest.raises(ValueError, match=r"weight must have shape \(out, in\)"):
        weight_condition_number(torch.ones(4))
    with pytest.raises(ValueError, match="non-finite"):
        condition_number(torch.tensor([[1.0, float("nan")], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="rtol must be a number in"):
        condition_number(torch.eye(2), rtol=2.0)


def test_activation_condition_number():
    g = torch.Generator().manual_seed(0)
    n = 400
    white = torch.randn(n, 3, generator=g, dtype=torch.float64)
    white = (white - white.mean(0)) @ torch.linalg.inv(torch.linalg.cholesky(torch.cov(white.T))).T  # cov = I exactly
    t = white * torch.tensor([3.0, 1.0, 0.5], dtype=torch.float64)  # covariance eigenvalues 9, 1, 0.25
    assert float(activation_condition_number(t)) == pytest.approx(36.0, rel=1e-8)
    both = activation_condition_number(torch.stack([t, white]))
    assert both.shape == (2,) and both.tolist() == pytest.approx([36.0, 1.0], rel=1e-8)
    assert float(activation_condition_number(t[:3])) == math.inf  # n <= d: singular covariance
    ridged = float(activation_condition_number(t, ridge=0.1))  # + 0.1 x mean variance (10.25 / 3)
    assert ridged == pytest.approx((9 + 10.25 / 30) / (0.25 + 10.25 / 30), rel=1e-8)
    with pytest.raises(ValueError, match="ridge must be a finite number >= 0, got -1"):
        activation_condition_number(t, ridge=-1)
    with pytest.raises(ValueError, match="at least 2 rows, got n=1"):
        activation_condition_number(t[:1])
    with pytest.raises(ValueError, match="zero variance"):
        activation_condition_number(torch.ones(5, 2))


# ---------------------------------------------------------------- Cauchy-Schwarz QMI


# sigma -> CS_QMI(x, y, sigma) of the authors' loss_cs.py on x, y = _points(50, 4)[:, :2], [:, 2:]
CS_REFERENCE = {0.5: 2.2636364020602704, 1.0: 1.063278614383938, 2.0: 0.20492576685922415}


@pytest.mark.parametrize("sigma", sorted(CS_REFERENCE))
def test_cs_qmi_matches_authors_formula(sigma):
    p = _points(50, 4)
    assert cs_qmi_bits(p[:, :2], p[:, 2:], sigma_x=sigma, sigma_y=sigma) == pytest.approx(
        CS_REFERENCE[sigma], abs=1e-10
    )


def test_cs_qmi_independent_near_zero_and_invariances():
    x, y = _gaussian(800, 0.0, seed=0)
    _, y_dep = _gaussian(800, 0.6, seed=0)
    independent = cs_qmi_bits(x, y)
    assert 0 <= independent < 0.02
    xd, yd = _gaussian(800, 0.6, seed=3)
    dependent = cs_qmi_bits(xd, yd)
    assert dependent > 5 * independent
    perm = np.random.default_rng(0).permutation(800)
    assert cs_qmi_bits(xd[perm], yd[perm]) == pytest.approx(dependent, rel=1e-9)  # row order
    assert cs_qmi_bits(yd, xd) == pytest.approx(dependent, rel=1e-9)  # symmetric
    assert cs_qmi_bits(5 * xd - 2, 0.1 * yd + 7) == pytest.approx(dependent, rel=1e-9)  # affine (Silverman widths)
    assert cs_qmi_bits(-xd, yd) == pytest.approx(dependent, rel=1e-9)  # reflection


def test_cs_qmi_increases_with_correlation():
    values = [cs_qmi_bits(*_gaussian(600, rho, seed=1)) for rho in (0.0, 0.3, 0.6, 0.9)]
    assert values == sorted(values) and values[-1] > values[1] + 0.3


def test_gaussian_closed_form():
    for rho in (0.0, 0.5, 0.9):
        c = np.array([[1.0, rho], [rho, 1.0]])
        assert gaussian_cs_qmi_nats(c, 1) == pytest.approx(math.log((4 - rho**2) / (4 * math.sqrt(1 - rho**2))))
    c = np.array([[1.0, 0.6], [0.6, 1.0]])
    a = np.diag([3.0, 0.2])  # a linear map of x and one of y: the same CS-QMI
    assert gaussian_cs_qmi_nats(a @ c @ a.T, 1) == pytest.approx(gaussian_cs_qmi_nats(c, 1))


@pytest.mark.parametrize("rho", [0.5, 0.8])
def test_cs_qmi_parzen_approaches_gaussian_closed_form(rho):
    """n = 3000 with Gram width 0.4: the estimate converges to the closed form of the covariance smoothed by the
    Parzen windows (h^2 = sigma^2 / 2 added to the variances), itself within 0.1 nats of the unsmoothed value."""
    x, y = _gaussian(3000, rho, seed=2)
    sigma = 0.4
    est = cs_qmi_bits(x, y, sigma_x=sigma, sigma_y=sigma) * math.log(2)
    c = np.array([[1.0, rho], [rho, 1.0]])
    smoothed = gaussian_cs_qmi_nats(c + sigma**2 / 2 * np.eye(2), 1)
    assert est == pytest.approx(smoothed, abs=0.015)
    assert abs(smoothed - gaussian_cs_qmi_nats(c, 1)) < 0.1


def test_cs_qmi_labels_registered_and_errors():
    x, _ = _gaussian(200, 0.0, seed=4)
    labels = (x[:, 0] > 0).astype(np.int64)
    assert cs_qmi_bits(x, labels) > 10 * cs_qmi_bits(x, np.random.default_rng(0).integers(0, 2, 200))
    r = estimate("cs_qmi", x, labels, device="cpu", ci_resamples=4)
    assert r.ci_low_bits <= r.mi_bits <= r.ci_high_bits
    with pytest.raises(ValueError, match="sigma_x must be a finite number > 0 or None, got -1"):
        cs_qmi_bits(x, x, sigma_x=-1)
    with pytest.raises(ValueError, match="sigma_y must be a finite number > 0 or None, got inf"):
        cs_qmi_bits(x, x, sigma_y=float("inf"))
    with pytest.raises(ValueError, match="width must be one of"):
        cs_qmi_bits(x, x, width="scott")
    with pytest.raises(ValueError, match="at least 4 rows, got n=3"):
        cs_qmi_bits(x[:3], x[:3])
    with pytest.raises(ValueError, match="y contains 1 non-finite"):
        cs_qmi_bits(x, np.where(np.arange(200)[:, None] == 5, np.inf, x))
    with pytest.raises(ValueError, match="zero spread"):
        cs_qmi_bits(np.ones((10, 1)), x[:10])


# ---------------------------------------------------------------- Wasserstein dependency measure


def test_wdm_zero_for_independent_and_increasing_with_correlation():
    settings = dict(steps=100, hidden=16, batch_size=128, seed=0)
    values = [wasserstein_dependency(*_gaussian(400, rho, seed=5), **settings) for rho in (0.0, 0.6, 0.95)]
    assert abs(values[0]) < 0.05
    assert values[0] < values[1] < values[2] and values[2] > 0.15


def test_wdm_deterministic_and_gradient_penalty():
    x, y = _gaussian(120, 0.8, seed=6)
    a = wasserstein_dependency(x, y, steps=20, hidden=8, seed=3)
    assert a == wasserstein_dependency(x, y, steps=20, hidden=8, seed=3)
    assert a != wasserstein_dependency(x, y, steps=20, hidden=8, seed=4)
    gp = wasserstein_dependency(x, y, lipschitz="gradient_penalty", steps=60, hidden=8, seed=3)
    assert gp == wasserstein_dependency(x, y, lipschitz="gradient_penalty", steps=60, hidden=8, seed=3) and gp > 0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"lipschitz": "clip"}, "lipschitz must be one of"),
        ({"train_fraction": 1.0}, "train_fraction must be strictly between 0 and 1, got 1.0"),
        ({"lr": 0.0}, "lr must be > 0, got 0.0"),
        ({"penalty": -1.0}, "penalty must be a finite number > 0, got -1.0"),
        ({"steps": 0}, "steps must be an integer >= 1, got 0"),
    ],
)
def test_wdm_bad_parameters(kwargs, match):
    x, y = _gaussian(20, 0.5, seed=0)
    with pytest.raises(ValueError, match=match):
        wasserstein_dependency(x, y, **kwargs)


def test_wdm_bad_data():
    x, y = _gaussian(20, 0.5, seed=0)
    with pytest.raises(ValueError, match="at least 8 samples, got n=5"):
        wasserstein_dependency(x[:5], y[:5])
    x[2, 0] = np.nan
    with pytest.raises(ValueError, match="x contains 1 non-finite"):
        wasserstein_dependency(x, y)
