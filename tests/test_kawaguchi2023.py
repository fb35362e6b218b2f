"""Kawaguchi et al. (2023): blobs, stochastic encoders, their replay, the per-model table and the claims."""

import math

import numpy as np
import pandas as pd
import pytest
import torch
import xarray as xr
from infoplane.analysis.generalisation import generalisation_table, weight_baselines
from infoplane.claims import CLAIMS
from infoplane.claims.kawaguchi2023 import rank_correlation, rank_correlation_ci
from infoplane.config import ConfigError, run_config, validate_config
from infoplane.data import build_dataset
from infoplane.extraction import activations
from infoplane.io import load_store
from infoplane.models import MLP, model_for_dataset
from infoplane.training import TrainConfig, capture_epochs, train
from infoplane.training.train import make_optimizer
from scipy import stats
from test_training import Kill, KillAt


def test_blobs_draws_balanced_classes_with_the_given_spread():
    ds = build_dataset("blobs", seed=3, n_train=50, n_test=5000)
    y, train_rows = ds["y"].values, ds["is_train"].values
    assert ds.sizes["sample"] == 5050 and train_rows.sum() == 50 and train_rows[:50].all()
    assert np.bincount(y[train_rows]).tolist() == [10] * 5 and np.bincount(y[~train_rows]).tolist() == [1000] * 5
    x = ds["x"].values.astype(float)
    within = np.concatenate([x[y == k] - x[y == k].mean(0) for k in range(5)])
    assert within.std() == pytest.approx(0.7, rel=0.03)  # the generator's cluster_std
    other = build_dataset("blobs", seed=4)
    assert not np.allclose(other["x"].values[:50], build_dataset("blobs", seed=3)["x"].values[:50])


def _blobs_model(width_factor=1, name="stochastic_mlp"):
    ds = build_dataset("blobs", seed=0)
    torch.manual_seed(0)
    cfg = {"name": name, "hidden": [8, 8, 4, 4], "activation": "relu", "width_factor": width_factor}
    return model_for_dataset(cfg, ds), ds


def test_stochastic_mlp_samples_in_evaluation_and_follows_the_protocol():
    model, ds = _blobs_model(width_factor=2)
    x = torch.as_tensor(ds["x"].values)
    assert [layer.weight.shape[0] for layer in model.layers] == [32, 32, 16, 16, 5]  # 2 x (loc, scale) units
    model.eval()
    outs = model(x)
    assert [o.shape[1] for o in outs] == [16, 16, 8, 8, 5]
    torch.testing.assert_close(outs[-1].sum(1), torch.ones(len(x)))
    assert not torch.equal(model.logits(x), model.logits(x))  # a new draw of z at every evaluation
    torch.manual_seed(1)
    first = model.logits(x)
    torch.manual_seed(1)
    torch.testing.assert_close(model.logits(x), first)
    # z = loc + scale * eps: standardised, the draws are N(0, 1)
    outs, gaussians = model.forward_gaussians(x)
    loc, scale = gaussians[2]
    eps = ((outs[1] - loc) / scale).detach()
    assert abs(float(eps.mean())) < 0.05 and float(eps.std()) == pytest.approx(1.0, abs=0.05)
    assert bool((scale > 0).all())
    # reparameterisation: the loss reaches the scale's weights
    model.zero_grad()
    torch.nn.functional.cross_entropy(model.logits(x), torch.as_tensor(ds["y"].values)).backward()
    assert model.layers[0].weight.grad[8:].abs().sum() > 0


def test_stochastic_conv_infers_the_square_image():
    ds = build_dataset("digits", max_samples=50)
    model = model_for_dataset({"name": "stochastic_conv", "hidden": [16], "activation": "relu", "channels": [4, 8]}, ds)
    outs = model(torch.as_tensor(ds["x"].values))
    assert [o.shape[1] for o in outs] == [4 * 8 * 8, 8 * 4 * 4, 16, 10]
    with pytest.raises(ValueError, match="65 features are not a square"):
        from infoplane.models.stochastic import square_side

        square_side(65)


def test_replay_writes_loc_and_scale_for_gaussian_layers_only_and_resumes_identically(tmp_path):
    model, ds = _blobs_model()
    x, y = torch.as_tensor(ds["x"].values), torch.as_tensor(ds["y"].values)
    is_train = torch.as_tensor(ds["is_train"].values)
    cfg = TrainConfig(epochs=20, optimizer="sgd", lr=0.05, momentum=0.9, batch_size=16, seed=2, flush_every=2)
    capture = capture_epochs(20, "list", epochs=[0, 5, 10, 20])
    train(model, x, y, is_train, cfg, capture, tmp_path / "straight")
    straight = load_store(tmp_path / "straight" / "weights.zarr")
    # killed and resumed: the sampled noise continues from the checkpointed torch RNG state
    model, _ = _blobs_model()
    with pytest.raises(Kill):
        train(model, x, y, is_train, cfg, capture, tmp_path / "killed", progress=KillAt(13))
    model, _ = _blobs_model()
    torch.manual_seed(99)  # a fresh process's generator: the checkpoint must restore it
    train(model, x, y, is_train, cfg, capture, tmp_path / "killed")
    assert straight.identical(load_store(tmp_path / "killed" / "weights.zarr"))

    acts = activations(model, straight, x)
    names = {f"layer{l}" for l in range(1, 6)}
    names |= {f"{p}_layer{l}" for p in ("loc", "scale") for l in range(1, 5)}
    assert set(acts.data_vars) == names
    assert acts["loc_layer3"].dims == acts["layer3"].dims == ("epoch", "sample", "unit_layer3")
    again = activations(model, straight, x)
    assert acts.identical(again)  # replay seeds the noise
    eps = (acts["layer1"] - acts["loc_layer1"]) / acts["scale_layer1"]
    assert float(eps.std()) == pytest.approx(1.0, abs=0.05)
    # a deterministic model's store is unchanged: layer{l} only
    mlp = MLP(2, [4, 3], 5)
    from infoplane.training import weights_snapshot

    plain = activations(mlp, weights_snapshot(mlp, 0), x)
    assert set(plain.data_vars) == {"layer1", "layer2", "layer3"}


def test_sgd_momentum_and_weight_decay_reach_the_optimiser():
    params = [torch.nn.Parameter(torch.ones(3))]
    sgd = make_optimizer("sgd", params, 0.1, momentum=0.9, weight_decay=0.01)
    assert sgd.param_groups[0]["momentum"] == 0.9 and sgd.param_groups[0]["weight_decay"] == 0.01
    adam = make_optimizer("adam", params, 0.1, momentum=0.9, weight_decay=0.01)
    assert adam.param_groups[0]["weight_decay"] == 0.01
    assert make_optimizer("sgd", params, 0.1).param_groups[0]["momentum"] == 0
    # one step of decay alone (zero gradient): w <- w - lr * wd * w
    params[0].grad = torch.zeros(3)
    sgd.step()
    torch.testing.assert_close(params[0].detach(), torch.full((3,), 1 - 0.1 * 0.01))


def test_config_sweeps_data_draws_widths_and_weight_decay():
    config = {
        "datasets": {"b0": {"generator": "blobs", "seed": 0}, "b1": {"generator": "blobs", "seed": 1}},
        "estimators": {"s": {"method": "stochastic", "n_draws": 2}},
        "experiments": {
            "e": {
                "dataset": "b0",
                "model": {"name": "stochastic_mlp", "hidden": [4, 2]},
                "estimators": ["s"],
                "sweep": {"dataset": ["b0", "b1"], "width_factor": [1, 3], "weight_decay": [0.0, 0.1]},
            }
        },
    }
    valid = validate_config(config)
    point = {"dataset": "b1", "width_factor": 3, "weight_decay": 0.1}
    rc = run_config(valid["experiments"]["e"], point)
    assert rc["model"]["width_factor"] == 3 and rc["training"]["weight_decay"] == 0.1 and "dataset" not in rc
    config["experiments"]["e"]["sweep"]["dataset"] = ["b0", "b9"]
    with pytest.raises(ConfigError, match="sweep.dataset: 'b9' is not defined under datasets"):
        validate_config(config)


def _weights(norms_by_layer):
    data = {}
    for k, w in enumerate(norms_by_layer):
        data[f"layer{k}_weight"] = (("epoch", f"a{k}", f"b{k}"), np.array([np.eye(2) * 0, np.eye(2) * w]))
        data[f"layer{k}_bias"] = (("epoch", f"c{k}"), np.zeros((2, 2)))
    return xr.Dataset(data, coords={"epoch": [0, 10]})


def test_per_model_table_from_hand_made_tables():
    b = weight_baselines(_weights([1.0, 2.0]))  # diag(w, w): Frobenius norm w sqrt(2)
    assert b["n_parameters"] == 12
    assert b["weight_norm_sum"] == pytest.approx(3 * math.sqrt(2))
    assert b["weight_norm_product"] == pytest.approx(4.0)
    assert b["weight_norm_log_product"] == pytest.approx(math.log(4.0))
    rows = []
    for run, values in {"r0": [3.0, 2.0, 2.5], "r1": [1.0, 1.5, 0.5]}.items():
        for layer, v in enumerate(values, start=1):
            for q, mi in (("I_XT", v + 1), ("I_XT_given_Y", v), ("I_TY", 1.0)):
                for epoch, scale in ((0, 9.0), (300, 1.0)):
                    rows.append({"experiment": "e", "run": run, "seed": 0, "weight_decay": 0.1, "estimator": "s",
                                 "epoch": epoch, "layer": layer, "quantity": q, "mi_bits": mi * scale})  # fmt: skip
    metrics = pd.DataFrame({
        "run": ["r0", "r0", "r1"], "epoch": [0, 300, 300], "train_loss": [2.0, 0.2, 0.5],
        "test_loss": [2.0, 0.9, 0.6], "train_accuracy": [0.2, 1.0, 0.8], "test_accuracy": [0.2, 0.75, 0.78],
    })  # fmt: skip
    table = generalisation_table(pd.DataFrame(rows), metrics, {"r0": b, "r1": b}).set_index("run")
    assert table.loc["r0", "loss_gap"] == pytest.approx(0.7) and table.loc["r1", "error_gap"] == pytest.approx(0.02)
    assert table.loc["r0", "ixz_given_y_min_bits"] == 2.0 and table.loc["r0", "ixz_given_y_last_bits"] == 2.5
    assert table.loc["r1", "ixz_given_y_mean_bits"] == pytest.approx(1.0) and table.loc["r1", "ixz_min_bits"] == 1.5
    assert table.loc["r0", "ixz_given_y_bits_layer1"] == 3.0 and table.loc["r0", "epoch"] == 300
    assert table.loc["r0", "weight_decay"] == 0.1 and table.loc["r1", "n_parameters"] == 12
    with pytest.raises(ValueError, match="needs a stochastic-layer estimator"):
        generalisation_table(pd.DataFrame(rows).query("quantity == 'I_XT'"), metrics, {"r0": b, "r1": b})


def test_rank_correlations_agree_with_scipy():
    rng = np.random.default_rng(0)
    a = rng.normal(size=40)
    b = a + rng.normal(size=40)
    assert rank_correlation(a, b) == pytest.approx(stats.spearmanr(a, b).statistic)
    assert rank_correlation(a, b, "kendall") == pytest.approx(stats.kendalltau(a, b).statistic)
    r, lo, hi = rank_correlation_ci(a, b)
    assert r == pytest.approx(stats.spearmanr(a, b).statistic) and lo < r < hi


def _table(n, gap_fn, seed=0):
    rng = np.random.default_rng(seed)
    mi = rng.uniform(0, 3, n)
    return pd.DataFrame({
        "ixz_given_y_min_bits": mi, "loss_gap": gap_fn(mi, rng),
        "n_parameters": rng.integers(100, 10_000, n), "weight_norm_sum": rng.uniform(1, 10, n),
        "weight_norm_log_product": rng.normal(size=n),
    })  # fmt: skip


def test_claims_hold_when_the_gap_follows_the_conditional_information():
    g = _table(40, lambda mi, rng: 0.2 * mi + 0.05 * rng.normal(size=len(mi)))
    table = CLAIMS["kawaguchi2023"](None, None, 2.3, generalisation=g)
    assert len(table) == 5 and table["holds"].all()
    assert table.iloc[0]["observed"] > 0.8 and table.iloc[0]["n_runs"] == 40


def test_claims_fail_when_the_gap_is_unrelated_or_a_baseline_tracks_it_better():
    unrelated = CLAIMS["kawaguchi2023"](None, None, 2.3, generalisation=_table(40, lambda mi, rng: rng.normal(size=40)))
    assert not unrelated["holds"].iloc[:2].any()
    g = _table(40, lambda mi, rng: 0.2 * mi + 0.3 * rng.normal(size=40))
    g["weight_norm_sum"] = g["loss_gap"] * 10 + 1  # a baseline that ranks the gap exactly
    table = CLAIMS["kawaguchi2023"](None, None, 2.3, generalisation=g).set_index("claim")
    assert not table.loc["I(X;Z|Y) tracks the loss gap better than weight_norm_sum", "holds"]
    assert table.loc["I(X;Z|Y) tracks the loss gap better than weight_norm_sum", "ci_high"] < 0
