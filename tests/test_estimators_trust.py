"""Estimates you can trust: no silent failures (heavy tails, diverged critics), the shared marginals
step (copula invariance), the reliability protocol (Abdelaleem et al. 2025) and ``method="auto"``."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from infoplane.estimators import estimate, information_plane, variational
from infoplane.estimators.parameters import parameter_errors
from infoplane.estimators.prepare import copula_scores, prepare_marginals
from infoplane.tasks import make_task

MONOTONE = [np.exp, lambda a: a**3, np.arctan, lambda a: np.sinh(2 * a) + 5]


# --- the shared marginals step ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pair():
    return make_task("gaussian", dim_x=2, dim_y=2, mi_bits=1.0).sample(500, seed=3)


@pytest.mark.parametrize(
    ("method", "params"),
    [("ksg", {}), ("ksg", {"metric": "euclidean"}), ("gaussian", {}), ("binning", {"bins": 6}), ("renyi", {})],
)
def test_copula_estimates_are_identical_after_per_coordinate_monotone_maps(pair, method, params):
    x, y = pair
    xt = np.column_stack([f(x[:, j]) for j, f in enumerate(MONOTONE[:2])])
    yt = np.column_stack([f(y[:, j]) for j, f in enumerate(MONOTONE[2:])])
    a = estimate(method, x, y, ci=False, marginals="copula", **params).mi_bits
    b = estimate(method, xt, yt, ci=False, marginals="copula", **params).mi_bits
    assert a == b
    assert estimate(method, xt, yt, ci=False, **params).mi_bits != a  # without it, the maps do change the estimate


def test_copula_scores_are_standard_normal_ranks_and_ties_share_a_score():
    a = torch.tensor([[3.0, 1.0], [1.0, 1.0], [2.0, 5.0]], dtype=torch.float64)
    s = copula_scores(a)
    assert torch.argsort(s[:, 0]).tolist() == [1, 2, 0]
    assert s[0, 1] == s[1, 1] and s[2, 1] > s[0, 1]
    assert abs(float(s[:, 0].sum())) < 1e-12  # symmetric scores of the ranks 1..n


def test_the_default_and_explicit_none_agree_and_labels_pass_unchanged(pair):
    x, y = pair
    assert estimate("ksg", x, y, ci=False).mi_bits == estimate("ksg", x, y, ci=False, marginals="none").mi_bits
    # KSG standardises already: the shared standardize step leaves it where it was
    a = estimate("ksg", x, y, ci=False).mi_bits
    assert estimate("ksg", x, y, ci=False, marginals="standardize").mi_bits == pytest.approx(a, abs=1e-5)
    labels = torch.tensor([0, 1, 1, 2])
    assert prepare_marginals(labels, "copula") is labels


def test_marginals_is_checked_in_config_and_at_run_time(pair):
    assert parameter_errors("ksg", {"marginals": "copula"}) == []
    assert parameter_errors("ksg", {"marginals": "rank"})[0][0] == "marginals"
    with pytest.raises(ValueError, match="marginals"):
        estimate("ksg", *pair, marginals="rank")


def test_copula_reaches_batched_plane_methods():
    rng = np.random.default_rng(0)
    acts = torch.as_tensor(rng.standard_normal((2, 200, 3)))
    inputs, labels = torch.as_tensor(rng.standard_normal((200, 4))), torch.as_tensor(rng.integers(0, 3, 200))
    a = information_plane("binning", acts, inputs, labels, bins=5, marginals="copula")
    b = information_plane("binning", torch.exp(acts), inputs, labels, bins=5, marginals="copula")
    assert torch.equal(a["I_TY"]["mi_bits"], b["I_TY"]["mi_bits"])


# --- no silent failures -------------------------------------------------------------------------------------------


def _heavy(kind: str, dof: float, n: int, seed: int, dims: int):
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, 2 * dims))
    z[:, dims:] = 0.6 * z[:, :dims] + 0.8 * z[:, dims:]
    w = rng.chisquare(1.0 if kind == "cauchy" else dof, size=(n, 1)) / (1.0 if kind == "cauchy" else dof)
    t = z / np.sqrt(w)
    return t[:, :dims], t[:, dims:]


FAST = [
    ("ksg", {}),
    ("gaussian", {}),
    ("tcopula", {}),
    ("renyi", {}),
    ("binning", {"bins": 8}),
    ("pca_ksg", {"components": 1}),
    ("mine", {"steps": 40}),
    ("nwj", {"steps": 40}),
    ("infonce", {"steps": 40}),
    ("smile", {"steps": 40}),
]


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(["cauchy", "student_t"]),
    dof=st.floats(0.5, 5.0),
    seed=st.integers(0, 10_000),
    dims=st.integers(1, 2),
    marginals=st.sampled_from(["none", "copula"]),
)
@example(kind="cauchy", dof=1.0, seed=3772, dims=1, marginals="none")  # NWJ's held-out exp overflowed (found by CI)
def test_heavy_tails_give_a_finite_estimate_or_an_error_naming_the_method(kind, dof, seed, dims, marginals):
    x, y = _heavy(kind, dof, 160, seed, dims)
    for method, params in FAST:
        try:
            r = estimate(method, x, y, ci_resamples=3, seed=seed, marginals=marginals, **params)
        except ValueError as err:
            assert method in str(err), (method, str(err))
            continue
        assert np.isfinite([r.mi_bits, r.ci_low_bits, r.ci_high_bits]).all(), (method, r)


def test_a_diverged_critic_is_retrained_with_a_new_seed(monkeypatch):
    real, seeds = variational._fit_once, []

    def flaky(*args):
        seeds.append(args[13])
        if len(seeds) == 1:
            raise variational.CriticDiverged("non-finite training loss at step 3")
        return real(*args)

    monkeypatch.setattr(variational, "_fit_once", flaky)
    x, y = make_task("gaussian", dim_x=1, dim_y=1, mi_bits=1.0).sample(300, seed=0)
    r = estimate("infonce", x, y, ci=False, steps=20, seed=5)
    assert np.isfinite(r.mi_bits) and seeds[0] == 5 and seeds[1] != 5


def test_a_critic_that_always_diverges_is_reported_not_averaged_in(monkeypatch):
    def broken(*args):
        raise variational.CriticDiverged("non-finite training loss at step 0")

    monkeypatch.setattr(variational, "_fit_once", broken)
    x, y = make_task("gaussian", dim_x=1, dim_y=1, mi_bits=1.0).sample(300, seed=0)
    with pytest.raises(variational.CriticDiverged, match="mine: the critic diverged on all 3 seeds"):
        estimate("mine", x, y, ci_resamples=2, steps=20)


def test_critics_stop_early_on_their_validation_split():
    x, y = make_task("gaussian", dim_x=1, dim_y=1, mi_bits=1.0).sample(1000, seed=0)
    r = estimate("nwj", x, y, ci=False, steps=2000, patience=2)  # stops long before 2000 steps
    assert np.isfinite(r.mi_bits) and r.seconds < 20


# --- the reliability protocol -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "dims", "n"), [("ksg", 2, 2000), ("gaussian", 5, 2000)])
def test_the_protocol_recovers_gaussian_mi_within_its_interval(method, dims, n):
    task = make_task("gaussian", dim_x=dims, dim_y=dims, mi_bits=1.0)
    x, y = task.sample(n, seed=1)
    r = estimate(method, x, y, protocol=True, seed=0)
    assert r.reliable is True, r.diagnostics
    assert r.ci_low_bits <= task.mi_bits <= r.ci_high_bits, r
    assert r.diagnostics["gammas"] == list(range(1, 11)) and r.params["protocol"] is True


def test_the_protocol_interval_counts_the_sampling_error_its_chunks_share():
    # A mean is the same on every partition: every chunk mean is the full-data mean, and the intercept's
    # standard error must be its standard error, sd / sqrt(n) (averaged over 20 data sets), not the
    # 0.7 of it that treating the chunk means as independent points gives.
    from infoplane.estimators.protocol import extrapolate

    rng = np.random.default_rng(0)
    ratios = []
    for _ in range(20):
        y = torch.as_tensor(rng.standard_normal((2520, 1)))  # divisible by 1..10: equal chunks
        a, _, _, _, d = extrapolate(lambda _x, b: float(b.mean()), y, y)
        assert a == pytest.approx(float(y.mean()), abs=1e-9)
        ratios.append(d["intercept_se_bits"] / (float(y.std()) / 2520**0.5))
    assert np.mean(ratios) == pytest.approx(1.0, abs=0.1), ratios


def test_the_protocol_interval_matches_the_spread_over_samples():
    # Gaussian estimator, 3+3 dims: the protocol's standard error against the spread of its intercept over
    # 30 samples (it was 0.6 of it while the chunk means were treated as independent).
    task = make_task("gaussian", dim_x=3, dim_y=3, mi_bits=1.0)
    runs = [estimate("gaussian", *task.sample(2000, seed=s), protocol=True, seed=s) for s in range(30)]
    spread = np.std([r.mi_bits for r in runs], ddof=1)
    se = np.mean([r.diagnostics["intercept_se_bits"] for r in runs])
    assert 0.8 < se / spread < 1.3, (se, spread)
    assert np.mean([r.ci_low_bits <= 1.0 <= r.ci_high_bits for r in runs]) >= 0.85


def test_the_protocol_flags_an_undersampled_case():
    task = make_task("gaussian", dim_x=10, dim_y=10, mi_bits=3.0)
    x, y = task.sample(300, seed=0)
    r = estimate("ksg", x, y, protocol=True, seed=0)
    assert r.reliable is False and "asymptotic regime" in r.diagnostics["reason"], r.diagnostics
    assert r.mi_bits < 0.5 * task.mi_bits  # the flag is needed: the number is far off


def test_the_protocol_needs_enough_rows():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="reliability protocol needs"):
        estimate("ksg", rng.standard_normal((60, 1)), rng.standard_normal((60, 1)), protocol=True)


def test_the_protocol_verdict_reaches_the_plane():
    rng = np.random.default_rng(0)
    acts = torch.as_tensor(rng.standard_normal((1, 300, 2)))
    inputs, labels = torch.as_tensor(rng.standard_normal((300, 3))), torch.as_tensor(rng.integers(0, 2, 300))
    out = information_plane("gaussian", acts, inputs, labels, protocol=True)
    assert set(out["I_XT"]) == {"mi_bits", "ci_low_bits", "ci_high_bits", "reliable"}
    assert out["I_XT"]["reliable"].shape == (1,)
    assert "reliable" not in information_plane("gaussian", acts, inputs, labels)["I_XT"]


# --- method auto --------------------------------------------------------------------------------------------------


def test_auto_records_its_choice_and_why():
    x, y = make_task("gaussian", dim_x=1, dim_y=1, mi_bits=1.0).sample(1000, seed=0)
    r = estimate("auto", x, y)
    assert r.method == "auto" and r.params["chosen"] == "ksg" and r.params["marginals"] == "copula"
    assert any("KSG is nearly unbiased" in w for w in r.diagnostics["why"]) and r.reliable is not None
    x, y = make_task("gaussian", dim_x=5, dim_y=5, mi_bits=1.0).sample(1000, seed=0)
    r = estimate("auto", x, y)
    assert set(r.diagnostics["candidates_bits"]) == {"ksg", "gaussian"} and r.params["chosen"] == "gaussian"
    assert r.ci_low_bits <= 1.0 <= r.ci_high_bits, r


def test_auto_widens_a_ksg_interval_by_its_sampling_error_around_every_k():
    # Additive uniform noise, 1+1: KSG's bias moves with k (boundaries), so the interval is the protocol's
    # placed at each of the k = 1, 3, 10 estimates, and reaches beyond the extreme ones by its half-widths.
    x, y = make_task("additive_uniform", dim=1, width=0.2).sample(3000, seed=0)
    r = estimate("auto", x, y, seed=0)
    by_k = r.diagnostics["ksg_by_k_bits"]
    assert r.params["chosen"] == "ksg"
    assert r.ci_high_bits > max(by_k.values()) + 0.01 and r.ci_low_bits < min(by_k.values()) - 0.01, (r, by_k)


def test_auto_takes_the_mixed_estimator_for_labels():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 600)
    x = labels[:, None] + rng.standard_normal((600, 2))
    r = estimate("auto", x, labels)
    assert r.params["chosen"] == "ksg" and any("class labels" in w for w in r.diagnostics["why"])


def test_the_mi_table_carries_the_verdict():
    import xarray as xr
    from infoplane.analysis import MI_COLUMNS, run_mi_table

    rng = np.random.default_rng(0)
    acts = xr.Dataset(
        {"layer1": (("epoch", "sample", "unit_layer1"), rng.standard_normal((2, 300, 2)))}, coords={"epoch": [0, 5]}
    )
    data = xr.Dataset(
        {"x": (("sample", "feature"), rng.standard_normal((300, 3))), "y": ("sample", rng.integers(0, 2, 300))}
    )
    checked = run_mi_table(acts, data, "gaussian", {"protocol": True}, device="cpu")
    assert list(checked.columns) == MI_COLUMNS and checked["reliable"].notna().all()
    plain = run_mi_table(acts, data, "gaussian", {}, device="cpu")
    assert list(plain.columns) == MI_COLUMNS and plain["reliable"].isna().all()
