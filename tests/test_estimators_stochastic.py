"""MI of stochastic encoders (Monte Carlo over the exact mixture) against closed forms."""

import math

import pytest
import torch
from infoplane.estimators import PLANE_METHODS, estimate
from infoplane.estimators.stochastic import (
    gaussian_log_density,
    heldout_log_likelihood,
    select_noise_scales,
    stochastic_mi_bits,
)


def _gen(seed):
    return torch.Generator().manual_seed(seed)


def test_log_density_matches_torch_distributions():
    g = _gen(1)
    z, loc = torch.randn(7, 3, generator=g, dtype=torch.float64), torch.randn(5, 3, generator=g, dtype=torch.float64)
    scale = torch.rand(5, 3, generator=g, dtype=torch.float64) + 0.2
    ref = torch.distributions.Normal(loc[None], scale[None]).log_prob(z[:, None]).sum(-1)
    torch.testing.assert_close(gaussian_log_density(z, loc, scale), ref)


def test_linear_gaussian_encoder_on_gaussian_inputs():
    """Z = A X + s eps, X ~ N(0, I): I(X;Z) = 1/2 log det(I + A A^T / s^2); X uniform over 1500 draws of it."""
    n, s = 1500, 0.7
    a = torch.tensor([[1.0, 0.5], [0.0, 0.8]], dtype=torch.float64)
    x = torch.randn(n, 2, generator=_gen(123), dtype=torch.float64)
    truth = 0.5 * torch.logdet(torch.eye(2, dtype=torch.float64) + a @ a.T / s**2).item() / math.log(2)
    got = stochastic_mi_bits(x @ a.T, torch.full((n, 2), s, dtype=torch.float64), n_draws=2, seed=7)["I_XT"]
    assert got == pytest.approx(truth, abs=0.06)  # 1.456 bits


def test_conditional_on_a_class_mixture():
    """Y uniform over 4 far-apart classes, X | Y ~ N(mu_y, I_2), Z = X + s eps: I(X;Z|Y) = log2(1 + 1/s^2),
    I(Z;Y) = H(Y) = 2 bits, and I(X;Z) is their sum."""
    n, s, k = 1600, 0.7, 4
    g = _gen(5)
    mu = torch.tensor([[0.0, 0.0], [30.0, 0.0], [0.0, 30.0], [30.0, 30.0]], dtype=torch.float64)
    y = torch.arange(n) % k
    x = mu[y] + torch.randn(n, 2, generator=g, dtype=torch.float64)
    r = stochastic_mi_bits(x, torch.full_like(x, s), y, n_draws=2, seed=11)
    assert r["I_XT_given_Y"] == pytest.approx(math.log2(1 + 1 / s**2), abs=0.06)  # 1.60 bits
    assert r["I_TY"] == pytest.approx(2.0, abs=0.01)
    assert r["I_XT"] == pytest.approx(r["I_TY"] + r["I_XT_given_Y"], abs=1e-9)


def test_near_deterministic_encoder_reaches_log_of_the_row_counts():
    """Tiny noise: Z identifies the row, so I(X;Z) = log2 M and I(X;Z|Y) = log2 (M / K) for balanced classes."""
    m, k = 60, 3
    loc = torch.randn(m, 4, generator=_gen(2), dtype=torch.float64)
    r = stochastic_mi_bits(loc, torch.full_like(loc, 1e-4), torch.arange(m) % k)
    assert r["I_XT"] == pytest.approx(math.log2(m), abs=1e-6)
    assert r["I_XT_given_Y"] == pytest.approx(math.log2(m / k), abs=1e-6)


def test_registry_form_gives_a_subsampling_interval_and_noise_injection_is_the_constant_scale_case():
    n = 400
    t = torch.randn(n, 2, generator=_gen(3), dtype=torch.float64)
    y = (t[:, 0] > 0).long()
    both = torch.cat([t, torch.full_like(t, 0.5)], dim=1)
    r = estimate("stochastic", both, y, quantity="I_XT_given_Y", ci_resamples=10, seed=1)
    assert r.ci_low_bits < r.mi_bits < r.ci_high_bits
    noisy = estimate("noise_injected", t, y, sigma=0.5, quantity="I_XT_given_Y", ci=False, seed=1)
    assert noisy.mi_bits == pytest.approx(r.mi_bits, abs=1e-12)


def test_stochastic_plane_uses_the_training_rows():
    e, n, d = 2, 40, 3
    loc = torch.randn(e, n, d, generator=_gen(4), dtype=torch.float64)
    acts = torch.cat([loc, torch.full_like(loc, 1e-4)], dim=2)
    labels, is_train = torch.arange(n) % 2, torch.arange(n) < 30
    out = PLANE_METHODS["stochastic"](acts, None, labels, is_train=is_train, ci=False)
    assert sorted(out) == ["I_TY", "I_XT", "I_XT_given_Y"]
    torch.testing.assert_close(out["I_XT"]["mi_bits"], torch.full((e,), math.log2(30), dtype=torch.float64))
    with pytest.raises(ValueError, match="needs is_train"):
        PLANE_METHODS["stochastic"](acts, None, labels, ci=False)


def test_noise_scale_selection_by_heldout_likelihood_and_monotone_in_depth():
    """1-d N(0, 1), 500 rows: the kernel width of best held-out likelihood is near Silverman's 1.06 n^(-1/5) = 0.31.
    A deeper layer whose held-out rows sit on its training rows favours a tiny width, which would
    keep more I(X;T) than layer 1: it gets the smallest larger width that keeps no more."""
    grid = [0.01, 0.03, 0.1, 0.3, 1.0, 3.0]
    g = _gen(8)
    train = torch.randn(500, 1, generator=g, dtype=torch.float64)
    held = torch.randn(500, 1, generator=g, dtype=torch.float64)
    lls = {s: heldout_log_likelihood(train, held, s) for s in grid}
    assert max(lls, key=lls.get) == 0.3
    near = train + 1e-3 * torch.randn(500, 1, generator=g, dtype=torch.float64)
    assert max(grid, key=lambda s: heldout_log_likelihood(train, near, s)) == 0.01
    sigmas, mis = select_noise_scales([train, train], [held, near], grid, seed=3)
    assert sigmas == [0.3, 0.3]
    assert mis[1] <= mis[0]
