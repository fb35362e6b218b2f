"""latent_ksg: KSG on the held-out codes of a cross-predictive autoencoder (and the compressor itself)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from infoplane.compressors import cross_predictive
from infoplane.compressors.cross_predictive import fit_cross_predictive, load_cross_predictive
from infoplane.estimators import estimate
from infoplane.estimators.learned_compression import last_diagnostics, latent_ksg_estimate
from infoplane.estimators.parameters import parameter_errors
from infoplane.tasks.manifold import EmbeddedTask


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def gaussian_2in50():
    return EmbeddedTask("gaussian", 2, 50, 1.0).sample(2000, seed=0)


def test_a_2d_gaussian_in_50_dims_is_within_015_bits_of_the_truth(gaussian_2in50):
    # measured: 0.99 bits of 1.0, interval [0.86, 1.08]; 39 epochs, 5.6 CPU-s
    x, y = gaussian_2in50
    mi, info = latent_ksg_estimate(x, y, seed=0, device="cpu")
    assert abs(mi - 1.0) < 0.15, (mi, info)
    assert info["converged"] and info["latent_dim_x"] == 4 and info["latent_dim_y"] == 4
    assert info["reconstruction_error_x"] < 0.1 and info["cross_error_y"] < 0.9
    assert info["n_fit"] == info["n_estimate"] == 1000 and info["n_train"] + info["n_val"] == 1000
    assert info["ci_low_bits"] < mi < info["ci_high_bits"] and info["ci_high_bits"] - info["ci_low_bits"] < 0.3


def test_independent_sides_give_near_zero():
    x, _ = EmbeddedTask("gaussian", 1, 50, 0.0).sample(2000, seed=1)
    _, y = EmbeddedTask("gaussian", 1, 50, 0.0, map_seed=3).sample(2000, seed=2)
    mi, info = latent_ksg_estimate(x, y, seed=0, device="cpu", ci=False)
    assert abs(mi) < 0.08, mi
    assert info["cross_error_x"] > 0.9  # nothing of x is predictable from y's code


@pytest.mark.filterwarnings("ignore:latent_ksg. the cross-predictive autoencoder did not converge")
def test_same_seed_same_estimate_and_other_seed_another():
    x, y = EmbeddedTask("gaussian", 1, 20, 2.0).sample(400, seed=0)
    kw = dict(epochs=4, device="cpu", ci=False)
    a, info_a = latent_ksg_estimate(x, y, seed=3, **kw)
    b, info_b = latent_ksg_estimate(x, y, seed=3, **kw)
    c, _ = latent_ksg_estimate(x, y, seed=4, **kw)
    assert a == b and info_a["reconstruction_error_x"] == info_b["reconstruction_error_x"]
    assert torch.equal(info_a["codes"][0], info_b["codes"][0])
    assert c != a


def test_registry_interval_reuses_the_fit(monkeypatch):
    x, y = EmbeddedTask("gaussian", 1, 20, 1.0).sample(400, seed=0)
    calls = []
    real = cross_predictive.fit_cross_predictive

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(cross_predictive, "fit_cross_predictive", counting)
    r = estimate("latent_ksg", x, y, device="cpu", epochs=30, seed=1, ci_resamples=5)
    assert len(calls) == 1
    assert r.ci_low_bits <= r.ci_high_bits and np.isfinite(r.mi_bits)
    diag = last_diagnostics()
    assert diag["mi_bits"] == r.mi_bits and diag["ci_low_bits"] == r.ci_low_bits
    assert "compressor" not in diag and "codes" not in diag


def test_bad_input_is_named():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((300, 5)), rng.standard_normal((300, 5))
    with pytest.raises(ValueError, match="x is constant"):
        latent_ksg_estimate(np.ones((300, 5)), y, device="cpu")
    with pytest.raises(ValueError, match="y is constant"):
        estimate("latent_ksg", x, np.full((300, 2), 3.0), device="cpu")
    bad = x.copy()
    bad[7, 2] = np.nan
    with pytest.raises(ValueError, match="x contains 1 non-finite"):
        latent_ksg_estimate(bad, y, device="cpu")
    with pytest.raises(ValueError, match="at least 100 samples"):
        latent_ksg_estimate(x[:60], y[:60], device="cpu")
    with pytest.raises(ValueError, match="fit_fraction"):
        latent_ksg_estimate(x, y, fit_fraction=0.95, device="cpu")
    with pytest.raises(ValueError, match="not class labels"):
        latent_ksg_estimate(x, (x[:, 0] > 0).astype(np.int64), device="cpu")
    with pytest.raises(ValueError, match="latent_dim"):
        latent_ksg_estimate(x, y, latent_dim=9, device="cpu")  # more than x's 5 columns
    with pytest.raises(TypeError, match="no parameter"):
        latent_ksg_estimate(x, y, hiden=3, device="cpu")
    assert parameter_errors("latent_ksg", {"fit_fraction": 1.5, "latent_dim": 0, "epochs": 0}) == [
        ("fit_fraction", "must be a number > 0 and < 1, got 1.5"),
        ("latent_dim", "must be an integer >= 1 or null, got 0"),
        ("epochs", "must be an integer >= 1, got 0"),
    ]


def test_a_compressor_that_did_not_converge_says_so():
    x, y = EmbeddedTask("gaussian", 2, 30, 1.0).sample(300, seed=0)
    with pytest.warns(UserWarning, match="did not converge"):
        _, info = latent_ksg_estimate(x, y, epochs=1, max_relative_error=1e-4, device="cpu", ci=False)
    assert info["converged"] is False


@pytest.mark.filterwarnings("ignore:the cross-predictive autoencoder did not converge")
def test_the_compressor_drops_constant_columns_and_saves(tmp_path):
    x, y = EmbeddedTask("gaussian", 1, 20, 1.0).sample(300, seed=0)
    x = np.concatenate([x, np.zeros((300, 3))], axis=1)  # dead units
    c = fit_cross_predictive(x, y, latent_dim=2, seed=0, epochs=3)
    assert c.report["kept_dim_x"] == 20 and c.report["epochs_run"] == 3
    c.save(tmp_path / "cp.pt")
    back = load_cross_predictive(tmp_path / "cp.pt")
    for a, b in zip(c.encode(x, y), back.encode(x, y), strict=True):
        assert torch.allclose(a, b)
