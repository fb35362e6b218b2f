"""Neural estimators at high MI: the log-N ceiling of InfoNCE, stated and checked, and the flow
estimator (mienf, Butakov et al. 2024b) against the truth where KSG is known to fall short."""

import math

import numpy as np
import pytest
import torch
from infoplane.estimators import ESTIMATORS, estimate
from infoplane.estimators.flow import mienf
from infoplane.estimators.parameters import parameter_errors
from infoplane.estimators.variational import (
    ConcatCritic,
    SeparableCritic,
    _evaluate,
    ceiling_info,
    heldout_bound,
    infonce_ceiling_bits,
    variational_mi,
)
from infoplane.tasks import GaussianTask
from infoplane.tasks.manifold import EmbeddedTask


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# --- InfoNCE: the estimate never exceeds log2(n_heldout) ---------------------------------------------------------


def test_the_ceiling_is_log2_of_the_heldout_rows():
    assert infonce_ceiling_bits(5000) == pytest.approx(math.log2(1500))
    assert infonce_ceiling_bits(300, train_fraction=0.5) == pytest.approx(math.log2(150))
    info = ceiling_info(9.7, 5000)
    assert info["ceiling_bits"] == pytest.approx(math.log2(1500)) and info["at_ceiling"] and info["lower_bound_only"]
    assert not ceiling_info(9.0, 5000)["at_ceiling"]  # more than a bit below log2(1500) = 10.55


@pytest.mark.parametrize(("critic", "n"), [(SeparableCritic(3, 2), 1000), (ConcatCritic(3, 2), 300)])
def test_the_blockwise_heldout_bound_is_the_bound_of_the_whole_score_matrix(critic, n):
    torch.manual_seed(0)
    x, y = torch.randn(n, 3), torch.randn(n, 2)  # two blocks of rows either way
    with torch.no_grad():
        s = critic.scores(x, y).double()
    for method in ("mine", "nwj", "infonce", "smile"):
        assert heldout_bound(critic, method, x, y, 1.0) == pytest.approx(float(_evaluate(method, s, 1.0)), abs=1e-9)


def test_nwj_on_scores_past_exps_range_is_minus_infinity_as_on_the_whole_matrix_not_an_overflow():
    # Found by CI on Cauchy data: off-diagonal scores of about 1000 nats; exp(1000 - 1) overflows a float.
    critic = SeparableCritic(1, 1)
    x, y = torch.randn(50, 1), torch.randn(50, 1)
    with torch.no_grad():
        for p in critic.parameters():
            p.fill_(3.0)  # scores grow as the products of the two embeddings: hundreds of nats and more
        s = critic.scores(x * 30, y * 30).double()
    assert float(s.max()) > 800
    whole = float(_evaluate("nwj", s, 1.0))
    assert whole == -math.inf and heldout_bound(critic, "nwj", x * 30, y * 30, 1.0) == whole


def test_infonce_above_its_ceiling_stays_below_it_and_says_so():
    task = GaussianTask(2, 2, 12.0)  # 12 bits; 300 rows leave 90 held out: the ceiling is log2(90) = 6.49 bits
    x, y = task.sample(300, seed=0)
    ceiling = math.log2(90)
    r = estimate("infonce", x, y, ci=False, steps=200, seed=0)
    assert r.mi_bits <= ceiling + 1e-9
    assert r.diagnostics == {"ceiling_bits": pytest.approx(ceiling), "at_ceiling": True, "lower_bound_only": True}
    nats, info = variational_mi(torch.as_tensor(x), torch.as_tensor(y), "infonce", steps=200, seed=0)
    assert nats / math.log(2) == pytest.approx(r.mi_bits) and info["n_heldout"] == 90 and info["at_ceiling"]
    assert "ceiling_info" not in dir(ESTIMATORS["nwj"].fn)  # other bounds have no such ceiling


# --- mienf: per-side flows onto a Gaussian latent ------------------------------------------------------------------


def _bits(task, n, seed=0, **params):
    x, y = task.sample(n, seed=seed)
    return mienf(torch.as_tensor(x), torch.as_tensor(y), seed=0, **params)


def test_mienf_reaches_a_high_mi_gaussian_where_ksg_falls_short():
    task = GaussianTask(4, 4, 8.0)  # every coordinate pair correlated, both sides rotated
    x, y = task.sample(2000, seed=0)
    bits, info = mienf(torch.as_tensor(x), torch.as_tensor(y), steps=300, seed=0)
    ksg = estimate("ksg", x, y, ci=False).mi_bits
    assert ksg < 6.5  # measured 5.75: KSG's bias at 8 bits in 4 + 4 dimensions
    assert abs(bits - 8.0) < 0.5, (bits, info)  # measured 7.74 (the noise alone costs about 0.1 bit)
    assert info["components_x"] == info["components_y"] == 4 and info["max_abs_excess_kurtosis"] < 0.5


def test_mienf_on_a_curved_manifold_beats_ksg_and_stays_below_the_truth():
    task = EmbeddedTask("gaussian", intrinsic_dim=4, ambient_dim=30, mi_bits=6.0)  # a tanh map into 30 units
    x, y = task.sample(1500, seed=0)
    bits, _ = mienf(torch.as_tensor(x), torch.as_tensor(y), steps=400, components=8, seed=0)
    ksg = estimate("ksg", x, y, ci=False).mi_bits  # measured 4.12
    assert ksg + 0.5 < bits < 6.0 + 0.1, (bits, ksg)  # measured 5.23


def test_mienf_at_independence_gives_about_zero():
    bits, info = _bits(GaussianTask(4, 4, 0.0), 1000, steps=200)
    assert 0.0 <= bits < 0.1, (bits, info)  # measured 0.012


def test_mienf_is_deterministic_given_its_seed_and_runs_on_float32():
    x, y = GaussianTask(3, 2, 1.0).sample(400, seed=0)
    x32, y32 = torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(y, dtype=torch.float32)
    a = mienf(x32, y32, steps=60, seed=3)
    assert a == mienf(x32, y32, steps=60, seed=3)
    assert a[0] != mienf(x32, y32, steps=60, seed=4)[0]
    r = estimate("mienf", x, y, steps=60, ci_resamples=2, seed=3)  # the seed interval of the registry
    assert r.ci_low_bits <= r.mi_bits <= r.ci_high_bits and r.params["ci"] == "seeds"
    assert ESTIMATORS["mienf"].ci == "seeds" and not ESTIMATORS["mienf"].labels_ok


def test_mienf_rejects_bad_input_naming_what_is_wrong():
    x, y = GaussianTask(2, 2, 1.0).sample(100, seed=0)
    bad = x.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="x contains 1 non-finite"):
        mienf(torch.as_tensor(bad), torch.as_tensor(y))
    with pytest.raises(ValueError, match="x contains 1 non-finite"):
        estimate("mienf", bad, y, ci=False)
    with pytest.raises(ValueError, match="mienf needs at least 40 samples, got n=30"):
        mienf(torch.as_tensor(x[:30]), torch.as_tensor(y[:30]))
    with pytest.raises(ValueError, match="y: every column is constant"):
        mienf(torch.as_tensor(x), torch.ones(100, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match="same number of rows"):
        mienf(torch.as_tensor(x), torch.as_tensor(y[:90]))
    for key, value, message in [
        ("noise", -0.1, "noise must be"),
        ("components", 0, "components must be"),
        ("train_fraction", 1.0, "train_fraction must"),
        ("blocks", 0, "blocks must"),
    ]:
        with pytest.raises(ValueError, match=message):
            mienf(torch.as_tensor(x), torch.as_tensor(y), **{key: value})
    errors = dict(parameter_errors("mienf", {"blocks": 0, "components": None, "noise": -1.0}))
    assert set(errors) == {"blocks", "noise"}  # components=None: chosen from the data


def test_mienf_keeps_constant_and_duplicated_columns_out_of_the_way():
    x, y = GaussianTask(2, 2, 2.0).sample(1000, seed=0)
    wide = np.concatenate([x, np.zeros((1000, 3)), x[:, :1]], axis=1)  # dead units and a copy
    bits, info = mienf(torch.as_tensor(wide), torch.as_tensor(y), steps=100, seed=0)
    assert info["components_x"] == 2 and abs(bits - 2.0) < 0.35, (bits, info)  # 300 held-out rows: ~0.1 bit sd
