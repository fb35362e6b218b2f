"""Hoffer, Hubara & Soudry (2017): Ghost BN, the step schedule and regime rules, the distance from
initialisation and its fits, the claims on hand-made tables, config errors, and resumable BN training."""

from __future__ import annotations

import copy
import math

import numpy as np
import pandas as pd
import pytest
import torch
import xarray as xr
import yaml
from conftest import REPO
from infoplane.analysis.weights import diffusion_tables, distance_from_init, first_phase, fit_growth, layer_of
from infoplane.claims.hoffer2017 import check, paired_difference
from infoplane.config import ConfigError, expand_runs, run_config, validate_config
from infoplane.extraction import activations
from infoplane.io import load_store
from infoplane.models import MLP, GhostBatchNorm1d
from infoplane.training import TrainConfig, publish, train
from infoplane.training.schedules import adapt_regime, run_regime, step_lr, updates_per_epoch

# ---------------------------------------------------------------------------------------------
# Ghost batch normalisation
# ---------------------------------------------------------------------------------------------


def _pair(ghost_batch, n_features=6):
    torch.manual_seed(0)
    plain, ghost = torch.nn.BatchNorm1d(n_features), GhostBatchNorm1d(n_features, ghost_batch=ghost_batch)
    ghost.load_state_dict(plain.state_dict())
    return plain, ghost


@pytest.mark.parametrize("ghost_batch", [32, 64, None])
def test_ghost_bn_equals_bn_when_the_ghost_batch_is_the_whole_batch(ghost_batch):
    plain, ghost = _pair(ghost_batch)
    x = torch.randn(32, 6, requires_grad=True) * 3 + 1
    out_plain, out_ghost = plain(x), ghost(x)
    assert torch.equal(out_plain, out_ghost)
    assert torch.equal(plain.running_mean, ghost.running_mean) and torch.equal(plain.running_var, ghost.running_var)
    g_plain = torch.autograd.grad(out_plain.pow(2).sum(), x)[0]
    g_ghost = torch.autograd.grad(out_ghost.pow(2).sum(), x)[0]
    assert torch.equal(g_plain, g_ghost)


def test_ghost_bn_normalises_each_ghost_batch_with_its_own_statistics():
    plain, ghost = _pair(8)
    x = torch.randn(32, 6) + torch.arange(32.0)[:, None] / 8  # ghost batches differ in mean
    out = ghost(x)
    expected = torch.cat([plain(chunk) for chunk in x.split(8)])  # same updates of the running stats
    torch.testing.assert_close(out, expected)
    torch.testing.assert_close(ghost.running_mean, plain.running_mean)
    assert not torch.allclose(out, _pair(None)[1](x))  # not the statistics of the whole batch
    for chunk in out.split(8):
        torch.testing.assert_close(chunk.mean(0), torch.zeros(6), atol=1e-5, rtol=0)


def test_ghost_bn_folds_a_single_leftover_row_and_evaluates_with_running_stats():
    _, ghost = _pair(4)
    out = ghost(torch.randn(9, 6))  # 4 + 5: one row alone has no variance
    assert out.shape == (9, 6) and torch.isfinite(out).all()
    ghost.eval()
    x = torch.randn(10, 6)
    torch.testing.assert_close(ghost(x)[:3], ghost(x[:3]))  # eval: no batch statistics
    with pytest.raises(ValueError, match="ghost_batch"):
        GhostBatchNorm1d(4, ghost_batch=1)


def test_mlp_with_batch_norm_is_f1_shaped():
    model = MLP(8, [16, 16], 3, "relu", batch_norm=True, ghost_batch=4)
    assert len(model.layers) == 3 and len(model.norms) == 2 and model.norms[0].ghost_batch == 4
    outs = model(torch.randn(12, 8))
    assert [o.shape[1] for o in outs] == [16, 16, 3] and (outs[0] >= 0).all()
    with pytest.raises(ValueError, match="batch_norm"):
        MLP(8, [16], 3, ghost_batch=4)
    assert not hasattr(MLP(8, [16], 3), "norms")  # the plain MLP is unchanged


# ---------------------------------------------------------------------------------------------
# The step schedule and the regime rules
# ---------------------------------------------------------------------------------------------


def test_step_schedule():
    lrs = [step_lr(0.1, e, [10, 20, 30], 0.1) for e in (0, 9, 10, 19, 20, 30, 49)]
    np.testing.assert_allclose(lrs, [0.1, 0.1, 0.01, 0.01, 0.001, 0.0001, 0.0001])
    assert step_lr(0.5, 100, [], 0.1) == 0.5


def test_regime_adaptation_arithmetic():
    # the paper's MNIST regime at B0 = 64, taken to B = 1024: x16 updates-wise, x4 in lr
    r = adapt_regime(0.1, 50, [10, 20, 30], 1024, 64, sqrt_lr=True, adapt_epochs=True)
    assert r.lr == pytest.approx(0.4) and r.epochs == 800 and r.drop_epochs == (160, 320, 480)
    r = adapt_regime(0.1, 50, [10, 20, 30], 1024, 64, sqrt_lr=True)
    assert r.lr == pytest.approx(0.4) and r.epochs == 50 and r.drop_epochs == (10, 20, 30)
    r = adapt_regime(0.1, 50, [10, 20, 30], 1024, 64, adapt_epochs=True)
    assert r.lr == pytest.approx(0.1) and r.epochs == 800
    r = adapt_regime(0.2, 10, [5], 32, 128, sqrt_lr=True, adapt_epochs=True)  # a smaller batch: fewer epochs
    assert r.lr == pytest.approx(0.1) and r.epochs == 2 and r.drop_epochs == (1,)
    assert adapt_regime(0.1, 1, [], 8, 1024, adapt_epochs=True).epochs == 1  # at least one epoch
    r = adapt_regime(0.1, 3, [1], 100, 100, sqrt_lr=True, adapt_epochs=True)  # B = B0: unchanged
    assert (r.lr, r.epochs, r.drop_epochs) == (0.1, 3, (1,))
    with pytest.raises(ValueError, match="reference_batch_size"):
        adapt_regime(0.1, 3, [], 100, 0, sqrt_lr=True)


def test_run_regime_uses_the_effective_batch():
    training = {"lr": 0.1, "epochs": 10, "batch_size": 0, "lr_drop_epochs": [5], "sqrt_lr": True,
                "adapt_regime": True, "reference_batch_size": 25}  # fmt: skip
    batch, r = run_regime(training, n_train=100)  # full batch: B = 100 = 4 B0
    assert batch == 100 and r.lr == pytest.approx(0.2) and r.epochs == 40 and r.drop_epochs == (20,)
    batch, r = run_regime({"lr": 0.1, "epochs": 10, "batch_size": 64}, n_train=100)
    assert batch == 64 and (r.lr, r.epochs, r.drop_epochs) == (0.1, 10, ())
    assert updates_per_epoch(100, 64) == 2 and updates_per_epoch(100, 0) == 1 and updates_per_epoch(100, 25) == 4


# ---------------------------------------------------------------------------------------------
# Distance from initialisation and its fits
# ---------------------------------------------------------------------------------------------


def _store(epochs, arrays: dict[str, np.ndarray], buffers=()) -> xr.Dataset:
    data = {}
    for name, values in arrays.items():
        dims = ("epoch", *[f"{name}_dim{k}" for k in range(values.ndim - 1)])
        data[name] = xr.Variable(dims, values, attrs={"kind": "buffer" if name in buffers else "parameter"})
    return xr.Dataset(data, coords={"epoch": np.asarray(epochs)})


def test_distance_from_init_against_a_hand_computation():
    w = np.array([[[0.0, 0.0]], [[3.0, 0.0]], [[3.0, 4.0]]])  # layer0_weight (epoch, 1, 2)
    b = np.array([[1.0], [1.0], [2.0]])  # layer0_bias
    g = np.array([[1.0], [3.0], [1.0]])  # norms.0.weight: the batch norm of layer 1
    v = np.array([[0.0], [0.0], [5.0]])  # layer1_weight
    stats = np.array([[0.0], [9.0], [99.0]])  # norms.0.running_mean: a buffer, not a parameter
    store = _store([0, 1, 4], {"layer0_weight": w, "layer0_bias": b, "norms.0.weight": g, "layer1_weight": v,
                               "norms.0.running_mean": stats}, buffers={"norms.0.running_mean"})  # fmt: skip
    d = distance_from_init(store).set_index(["layer", "epoch"])["distance"]
    # layer1 at epoch 1: sqrt(3^2 + 0 + 2^2); at epoch 4: sqrt(3^2 + 4^2 + 1^2 + 0)
    assert (
        d["layer1", 0] == 0
        and d["layer1", 1] == pytest.approx(math.sqrt(13))
        and d["layer1", 4] == pytest.approx(math.sqrt(26))
    )
    assert d["layer2", 1] == 0 and d["layer2", 4] == pytest.approx(5)
    assert d["total", 4] == pytest.approx(math.sqrt(26 + 25)) and d["total", 1] == pytest.approx(math.sqrt(13))
    assert list(dict.fromkeys(d.index.get_level_values("layer"))) == ["layer1", "layer2", "total"]
    assert layer_of("layer3_weight") == "layer4" and layer_of("norms.2.bias") == "layer3"
    assert layer_of("net.0.weight") == "net"


def test_fit_growth_recovers_each_law():
    t = np.array([1, 2, 4, 8, 16, 32, 64, 128, 256], dtype=float)
    fit = fit_growth(t, 0.5 + 2 * np.log(t))
    assert fit["r2_log"] == pytest.approx(1) and fit["slope_log"] == pytest.approx(2)
    assert fit["intercept_log"] == pytest.approx(0.5) and fit["r2_sqrt"] < 0.99 and fit["r2_linear"] < fit["r2_sqrt"]
    fit = fit_growth(t, 3 * np.sqrt(t))
    assert fit["r2_sqrt"] == pytest.approx(1) and fit["r2_log"] < 1 and fit["n_points"] == 9
    # R^2 by hand for the linear fit of 3 points: d = (0, 1, 1) on t = (1, 2, 3): slope 0.5, SS_res 1/6, SS_tot 2/3
    assert fit_growth([1, 2, 3], [0, 1, 1])["r2_linear"] == pytest.approx(0.75)
    assert math.isnan(fit_growth([1, 2], [0, 1])["r2_log"])
    with pytest.raises(ValueError, match="positive"):
        fit_growth([0, 1, 2], [0, 1, 2])


def test_first_phase_and_diffusion_tables():
    assert first_phase([0, 1, 2, 5, 6, 9], [5, 8]).tolist() == [False, True, True, True, False, False]
    assert first_phase([0, 1, 2], []).tolist() == [False, True, True]
    epochs = np.array([0, 1, 2, 3, 4, 6])
    w = np.log1p(epochs * 10.0)[:, None, None] * np.ones((1, 2, 2))
    store = _store(epochs, {"layer0_weight": w})
    runs = {"r": {"weights": store, "updates_per_epoch": 10, "drop_epochs": [4], "labels": {"run": "r", "seed": 0}}}
    distance, fits = diffusion_tables(runs)
    assert distance["updates"].tolist()[:6] == [0, 10, 20, 30, 40, 60] and list(distance.columns[:2]) == ["run", "seed"]
    total = fits[fits["layer"] == "total"].iloc[0]
    assert total["n_points"] == 4 and total["phase_updates_min"] == 10 and total["phase_updates_max"] == 40
    assert total["r2_log"] > total["r2_sqrt"] > total["r2_linear"]
    assert total["final_distance"] == pytest.approx(2 * math.log1p(60))


# ---------------------------------------------------------------------------------------------
# Claims on hand-made tables
# ---------------------------------------------------------------------------------------------

ACCURACY = {  # final test accuracy per condition and seed
    "small": [0.98, 0.99, 0.985],
    "large": [0.93, 0.94, 0.935],
    "large_sqrt": [0.95, 0.96, 0.955],
    "large_regime": [0.985, 0.98, 0.99],
    "large_ghost": [0.97, 0.98, 0.975],
}


def _metrics(accuracy=ACCURACY) -> pd.DataFrame:
    rows = []
    for cond, values in accuracy.items():
        for seed, acc in enumerate(values):
            run = f"condition~{cond}/seed~{seed}"
            rows.append({"run": run, "condition": cond, "seed": seed, "epoch": 0, "test_accuracy": 0.1,
                         "train_accuracy": 0.1})  # fmt: skip
            rows.append({"run": run, "condition": cond, "seed": seed, "epoch": 9, "test_accuracy": acc,
                         "train_accuracy": 1.0})  # fmt: skip
    return pd.DataFrame(rows)


def _fits(r2_log, r2_sqrt, r2_linear, span=(1, 100)) -> pd.DataFrame:
    n = len(r2_log)
    columns = {"r2_log": r2_log, "r2_sqrt": r2_sqrt, "r2_linear": r2_linear}
    span = {"phase_updates_min": span[0], "phase_updates_max": span[1]}
    return pd.DataFrame({"run": [f"r{i}" for i in range(n)], "layer": "total"} | columns | span)


def test_claims_hold_on_a_table_that_shows_them():
    fits = _fits([0.99, 0.98, 0.97], [0.9, 0.85, 0.88], [0.7, 0.75, 0.72])
    table = check(pd.DataFrame(), _metrics(), 0.0, diffusion=fits).set_index("claim")
    assert table["holds"].all(), table
    gap = table.loc["large batches generalise worse"]
    assert gap["observed"] == pytest.approx(0.05) and gap["n_runs"] == 3 and gap["ci_low"] < 0.05 < gap["ci_high"]
    np.testing.assert_allclose(paired_difference(_metrics(), "large_ghost", "large_sqrt"), [0.02, 0.02, 0.02])


def test_claims_fail_where_the_table_says_otherwise():
    accuracy = ACCURACY | {"large_regime": [0.94, 0.93, 0.94], "large_ghost": [0.95, 0.955, 0.96]}
    fits = _fits([0.9, 0.8, 0.85], [0.95, 0.9, 0.97], [0.7, 0.6, 0.65])
    table = check(pd.DataFrame(), _metrics(accuracy), 0.0, diffusion=fits).set_index("claim")
    assert not table.loc["regime adaptation closes the gap", "holds"]
    assert not table.loc["Ghost BN reduces the gap", "holds"]
    assert not table.filter(like="better than sqrt", axis=0)["holds"].any()
    assert table.filter(like="better than linear", axis=0)["holds"].all()
    # runs whose first phase spans less than a decade of updates are not compared
    short = check(pd.DataFrame(), _metrics(), 0.0, diffusion=_fits([0.99] * 3, [0.5] * 3, [0.5] * 3, span=(10, 40)))
    assert (short["n_runs"].iloc[:2] == 0).all() and not short["holds"].iloc[:2].any()
    # a wide interval that includes 0 only because it is wide does not close the gap
    wide = ACCURACY | {"large_regime": [0.9, 1.0, 0.95]}
    row = check(pd.DataFrame(), _metrics(wide), 0.0, diffusion=_fits([1] * 3, [0] * 3, [0] * 3)).set_index("claim")
    assert not row.loc["regime adaptation closes the gap", "holds"]


# ---------------------------------------------------------------------------------------------
# Config: bad values are named before any job runs
# ---------------------------------------------------------------------------------------------

TINY = yaml.safe_load((REPO / ".test/config.yaml").read_text())
H = ["experiments", "hoffer2017"]


def _with(path, value):
    cfg = copy.deepcopy(TINY)
    node = cfg
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return cfg


GHOST = [*H, "conditions", "large_ghost", "ghost_batch"]
TRAINING = [*H, "training"]


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (
            GHOST,
            100,
            r"hoffer2017\.model\.ghost_batch: 100 is larger than training\.batch_size 50 \(run condition~large_ghost",
        ),
        (GHOST, 20, r"hoffer2017\.model\.ghost_batch: 20 does not divide training\.batch_size 50"),
        (GHOST, 1, r"hoffer2017\.conditions\.large_ghost\.ghost_batch: invalid value 1"),
        ([*H, "model", "ghost_batch"], 1, r"hoffer2017\.model\.ghost_batch: 1 is less than the minimum of 2"),
        ([*TRAINING, "lr_drop_factor"], -0.1, r"training\.lr_drop_factor: -0\.1 is less than or equal to the minimum"),
        ([*TRAINING, "reference_batch_size"], 0, r"training\.reference_batch_size: 0 is less than the minimum of 1"),
        ([*TRAINING, "reference_batch_size"], -64, r"training\.reference_batch_size: -64 is less than the minimum"),
        (
            [*TRAINING, "reference_batch_size"],
            None,
            r"training\.reference_batch_size: sqrt_lr and adapt_regime need B0",
        ),
        ([*H, "model", "batch_norm"], False, r"hoffer2017\.model\.ghost_batch: Ghost BN needs model\.batch_norm"),
        (
            [*H, "sweep", "condition"],
            ["small", "huge"],
            r"sweep\.condition: \['huge'\] are not defined under conditions",
        ),
        ([*H, "conditions", "small", "colour"], 3, r"experiments\.hoffer2017\.conditions\.small"),
        ([*H, "model", "name"], "stochastic_mlp", r"hoffer2017\.model\.batch_norm: only the mlp takes it"),
    ],
)
def test_bad_regime_values_are_named(path, value, message):
    with pytest.raises(ConfigError, match=message):
        validate_config(_with(path, value))


def test_conditions_set_their_values_in_each_run():
    exp = validate_config(TINY)["experiments"]["hoffer2017"]
    runs = expand_runs(exp)
    assert list(runs) == ["condition~small/seed~0", "condition~large_regime/seed~0", "condition~large_ghost/seed~0"]
    cfg = run_config(exp, runs["condition~large_ghost/seed~0"])
    assert cfg["training"]["batch_size"] == 50 and cfg["training"]["sqrt_lr"] and cfg["model"]["ghost_batch"] == 10
    small = run_config(exp, runs["condition~small/seed~0"])
    assert small["model"]["ghost_batch"] is None and not small["training"]["sqrt_lr"]


# ---------------------------------------------------------------------------------------------
# Training with batch norm and the step schedule: buffers stored, replay, resume
# ---------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _data(n=120, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 6, generator=g)
    y = (x[:, 0] + x[:, 1] > 0).long() + (x[:, 2] > 1).long()
    return x, y, torch.arange(n) % 5 != 0


CFG = TrainConfig(epochs=6, optimizer="sgd", lr=0.1, batch_size=16, momentum=0.9, weight_decay=1e-4,
                  lr_drop_epochs=(2, 4), flush_every=2)  # fmt: skip


def _train_bn(work_dir, cfg=CFG):
    torch.manual_seed(0)
    model = MLP(6, [12, 12], 3, "relu", batch_norm=True, ghost_batch=8)
    train(model, *_data(), cfg, list(range(cfg.epochs + 1)), work_dir)
    return model


def test_weights_store_holds_buffers_and_replay_reproduces_eval_outputs(tmp_path):
    model = _train_bn(tmp_path / "work")
    publish(tmp_path / "work", tmp_path / "weights.zarr", tmp_path / "metrics.csv")
    weights = load_store(tmp_path / "weights.zarr")
    assert (
        weights["norms.1.running_var"].attrs["kind"] == "buffer"
        and weights["layer0_weight"].attrs["kind"] == "parameter"
    )
    # 6 batches of 16 an epoch, 2 ghost batches each: copies at every capture, not views of the live buffer
    assert weights["norms.0.num_batches_tracked"].values.tolist() == [0, 12, 24, 36, 48, 60, 72]
    x = _data()[0]
    acts = activations(MLP(6, [12, 12], 3, "relu", batch_norm=True), weights, x)
    model.eval()
    with torch.no_grad():
        expected = model(x)
    for layer, out in enumerate(expected, start=1):
        np.testing.assert_allclose(acts[f"layer{layer}"].isel(epoch=-1).values, out.numpy(), rtol=1e-6, atol=1e-6)
    metrics = pd.read_csv(tmp_path / "metrics.csv")
    assert metrics["test_accuracy"].iloc[-1] > 0.5


def test_the_step_schedule_is_applied(tmp_path):
    cfg = TrainConfig(epochs=4, optimizer="sgd", lr=0.1, batch_size=16, lr_drop_epochs=(2,), lr_drop_factor=1e-9)
    _train_bn(tmp_path / "work", cfg)
    w = load_store(tmp_path / "work/weights.zarr")["layer0_weight"].values
    moved = [float(np.abs(w[e + 1] - w[e]).max()) for e in range(4)]
    assert moved[0] > 1e-3 and moved[1] > 1e-3 and moved[2] < 1e-8 and moved[3] < 1e-8


def test_a_killed_bn_run_with_lr_drops_resumes_identically(tmp_path, monkeypatch):
    _train_bn(tmp_path / "straight")
    calls = {"n": 0}
    real_save = torch.save

    def save_then_kill(*args, **kwargs):
        calls["n"] += 1
        real_save(*args, **kwargs)
        if calls["n"] == 3:  # before the checkpoint at epoch 6 replaces that at 4 (the rate dropped once)
            raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", save_then_kill)
    with pytest.raises(KeyboardInterrupt):
        _train_bn(tmp_path / "killed")
    monkeypatch.setattr(torch, "save", real_save)
    assert torch.load(tmp_path / "killed/checkpoint.pt", weights_only=True)["epoch"] == 4
    _train_bn(tmp_path / "killed")
    straight, resumed = load_store(tmp_path / "straight/weights.zarr"), load_store(tmp_path / "killed/weights.zarr")
    assert resumed.identical(straight)
    assert (tmp_path / "killed/metrics.csv").read_bytes() == (tmp_path / "straight/metrics.csv").read_bytes()
