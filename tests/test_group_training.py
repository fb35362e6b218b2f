"""Group training: many runs as one vectorised model, equal to each run alone; resumable, deterministic;
families that cannot be stacked train one at a time in the group job."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from conftest import copy_repo, snakemake_cmd
from infoplane.data import build_dataset
from infoplane.io import load_store
from infoplane.training import capture_epochs, publish, train
from infoplane.training.group import (
    build_member,
    group_key,
    plan_groups,
    publish_group,
    train_group,
    unvectorised_settings,
    vectorisable,
    why_not_batchable,
)

EPOCHS = 30
CAPTURE = capture_epochs(EPOCHS, "list", epochs=[0, 1, 2, 3, 5, 8, 13, 21, 30])
# Group against alone: float reassociation only (batched against single matrix products). Measured
# on CPU: at most 1e-6 in weights and 2e-6 in losses and gradient statistics after 30 epochs.
ATOL = 1e-5


def _run_config(activation="tanh", l2=0.0, seed=0, name="mlp", epochs=EPOCHS):
    return {
        "model": {"name": name, "hidden": [10, 7, 5, 4, 3], "activation": activation},
        "training": {"epochs": epochs, "optimizer": "adam", "lr": 0.01, "batch_size": 512, "l2": l2, "seed": seed},
        "capture": {"schedule": "list", "n_points": 10, "epochs": CAPTURE},
    }


# three runs that differ in seed, activation and l2: all three are per-run values of one group
CONFIGS = {
    "activation~tanh/seed~0": _run_config("tanh", 0.0, 0),
    "activation~relu/seed~1": _run_config("relu", 0.0, 1),
    "activation~tanh/l2~0.01/seed~2": _run_config("tanh", 0.01, 2),
}


@pytest.fixture(scope="module")
def task():
    ds = build_dataset("tishby12", seed=0)
    x = torch.as_tensor(ds["x"].values, dtype=torch.float32)
    y = torch.as_tensor(ds["y"].values, dtype=torch.int64)
    return ds, x, y, torch.as_tensor(ds["is_train"].values)


def _members(ds, root: Path, configs=CONFIGS):
    members = [build_member(run, cfg, ds, root / run) for run, cfg in configs.items()]
    for m in members:
        m.cfg.flush_every = 2
    return members


def _group(task, root: Path, configs=CONFIGS, progress=None) -> str:
    ds, x, y, is_train = task
    members = _members(ds, root / "work", configs)
    return train_group(
        members, x, y, is_train, CAPTURE, root / "group", [c["training"] for c in configs.values()], progress
    )


def _alone(task, root: Path, run: str, cfg: dict) -> None:
    ds, x, y, is_train = task
    m = build_member(run, cfg, ds, root / run)  # as scripts/train.py: manual_seed(seed), then the model
    m.cfg.flush_every = 2
    train(m.model, x, y, is_train, m.cfg, CAPTURE, m.work_dir)


@pytest.fixture(scope="module")
def straight(task, tmp_path_factory):
    root = tmp_path_factory.mktemp("straight")
    assert _group(task, root) == "vectorised"
    return root


def test_group_equals_each_run_alone_up_to_reassociation(task, straight, tmp_path):
    worst_weight, worst_metric = 0.0, 0.0
    for run, cfg in CONFIGS.items():
        _alone(task, tmp_path, run, cfg)
        alone, grouped = (
            load_store(tmp_path / run / "weights.zarr"),
            load_store(straight / "work" / run / "weights.zarr"),
        )
        assert set(alone.data_vars) == set(grouped.data_vars)
        assert alone["epoch"].values.tolist() == grouped["epoch"].values.tolist() == CAPTURE
        for var in alone.data_vars:
            assert alone[var].shape == grouped[var].shape
            worst_weight = max(worst_weight, float(np.abs(alone[var].values - grouped[var].values).max()))
        a, g = pd.read_csv(tmp_path / run / "metrics.csv"), pd.read_csv(straight / "work" / run / "metrics.csv")
        assert list(a.columns) == list(g.columns)
        assert a["epoch"].tolist() == g["epoch"].tolist()
        worst_metric = max(worst_metric, float((a - g).abs().max().max()))
    # the initialisation is each run's own, to the bit
    for run in CONFIGS:
        alone, grouped = (
            load_store(tmp_path / run / "weights.zarr"),
            load_store(straight / "work" / run / "weights.zarr"),
        )
        assert alone.isel(epoch=0).identical(grouped.isel(epoch=0))
    assert worst_weight < ATOL, worst_weight
    assert worst_metric < ATOL, worst_metric
    print(f"group against alone, largest difference: weights {worst_weight:.2e}, metrics {worst_metric:.2e}")


def test_runs_of_a_group_differ_from_one_another(straight):
    a = load_store(straight / "work" / "activation~tanh/seed~0" / "weights.zarr")
    b = load_store(straight / "work" / "activation~tanh/l2~0.01/seed~2" / "weights.zarr")
    assert not np.allclose(a["layer0_weight"].values, b["layer0_weight"].values)


def test_group_rerun_is_byte_identical(task, straight, tmp_path):
    assert _group(task, tmp_path) == "vectorised"
    for run in CONFIGS:
        a, b = straight / "work" / run, tmp_path / "work" / run
        assert (a / "metrics.csv").read_bytes() == (b / "metrics.csv").read_bytes()
        assert load_store(a / "weights.zarr").identical(load_store(b / "weights.zarr"))


class Kill(Exception):
    pass


class KillAt:
    """A progress object that raises after ``n`` epochs: a group job killed mid-training."""

    def __init__(self, n):
        self.n, self.seen = n, 0

    def update(self, k):
        self.seen += k
        if self.seen >= self.n:
            raise Kill


@pytest.mark.parametrize("kill_after", [4, 17])  # before the first group checkpoint, and after two
def test_killed_group_resumes_to_identical_results(task, straight, tmp_path, kill_after):
    with pytest.raises(Kill):
        _group(task, tmp_path, progress=KillAt(kill_after))
    ckpt = tmp_path / "group" / "checkpoint.pt"
    if kill_after > 10:
        assert torch.load(ckpt, weights_only=True)["epoch"] > 0
    assert _group(task, tmp_path) == "vectorised"  # a fresh call: the models are new, state from the checkpoint
    for run in CONFIGS:
        a, b = straight / "work" / run, tmp_path / "work" / run
        assert (a / "metrics.csv").read_bytes() == (b / "metrics.csv").read_bytes()
        assert load_store(a / "weights.zarr").identical(load_store(b / "weights.zarr"))
    outputs = {
        run: (tmp_path / "out" / run / "weights.zarr", tmp_path / "out" / run / "metrics.csv") for run in CONFIGS
    }
    publish_group(_members(task[0], tmp_path / "work"), tmp_path / "group", outputs)
    assert not (tmp_path / "group").exists() and not (tmp_path / "work" / next(iter(CONFIGS))).exists()
    for run in CONFIGS:
        assert (tmp_path / "out" / run / "metrics.csv").read_bytes() == (
            straight / "work" / run / "metrics.csv"
        ).read_bytes()


def test_a_checkpoint_of_other_runs_is_not_resumed(task, tmp_path):
    with pytest.raises(Kill):
        _group(task, tmp_path / "killed", progress=KillAt(17))
    two = dict(list(CONFIGS.items())[:2])  # the group was re-planned (another group size)
    assert _group(task, tmp_path / "killed", configs=two) == "vectorised"
    assert _group(task, tmp_path / "straight", configs=two) == "vectorised"
    for run in two:
        a, b = tmp_path / "straight" / "work" / run, tmp_path / "killed" / "work" / run
        assert (a / "metrics.csv").read_bytes() == (b / "metrics.csv").read_bytes()


def test_fallback_trains_stochastic_models_one_at_a_time_as_alone(tmp_path):
    ds = build_dataset("blobs", seed=0, n_train=40, n_test=40)
    x = torch.as_tensor(ds["x"].values, dtype=torch.float32)
    y = torch.as_tensor(ds["y"].values, dtype=torch.int64)
    is_train = torch.as_tensor(ds["is_train"].values)
    configs = {}
    for seed in (0, 1):
        cfg = _run_config("relu", 0.0, seed, name="stochastic_mlp", epochs=4)
        cfg["model"]["hidden"] = [8, 4]
        cfg["training"]["batch_size"] = 16
        cfg["capture"]["epochs"] = [0, 2, 4]
        configs[f"seed~{seed}"] = cfg
    capture = [0, 2, 4]
    members = [build_member(run, cfg, ds, tmp_path / "group_work" / run) for run, cfg in configs.items()]
    how = train_group(members, x, y, is_train, capture, tmp_path / "group", [c["training"] for c in configs.values()])
    assert how.startswith("one at a time") and "StochasticMLP" in how
    for run, cfg in configs.items():
        m = build_member(run, cfg, ds, tmp_path / "alone" / run)
        train(m.model, x, y, is_train, m.cfg, capture, m.work_dir)
        a, g = tmp_path / "alone" / run, tmp_path / "group_work" / run
        # the same code path and the same noise: identical, not just close
        assert (a / "metrics.csv").read_bytes() == (g / "metrics.csv").read_bytes()
        assert load_store(a / "weights.zarr").identical(load_store(g / "weights.zarr"))
    publish(tmp_path / "alone" / "seed~0", tmp_path / "w.zarr", tmp_path / "m.csv")  # the solo outputs publish as ever


def test_why_not_batchable_names_the_reason(task):
    ds = task[0]
    two = [build_member(f"seed~{s}", _run_config(seed=s), ds, Path("unused")) for s in (0, 1)]
    assert why_not_batchable(two) is None
    assert why_not_batchable(two[:1]) == "a group of one"
    assert "lr_schedule" in why_not_batchable(two, [{"lr_schedule": "step"}, {}])
    assert why_not_batchable(two, [{"lr_schedule": None}]) is None  # an unset setting is no obstacle
    two[1].model.register_buffer("running_mean", torch.zeros(3))  # e.g. batch-norm statistics
    assert "buffers" in why_not_batchable(two)
    three = [build_member(f"seed~{s}", _run_config(seed=s), ds, Path("unused")) for s in (0, 1)]
    three[1].cfg.lr = 0.1
    assert why_not_batchable(three) == "training.lr differs between runs"
    four = [build_member(f"seed~{s}", _run_config(seed=s), ds, Path("unused")) for s in (0, 1)]
    four[1].model.extra = torch.nn.BatchNorm1d(3)
    assert why_not_batchable(four) is not None


def test_plan_groups_groups_seeds_activations_and_l2_and_splits_by_size():
    configs = {f"activation~{a}/seed~{s}": _run_config(a, 0.0, s) for a in ("tanh", "relu") for s in range(5)}
    configs["lr"] = _run_config()
    configs["lr"]["training"]["lr"] = 0.1
    groups = plan_groups(configs, 4)
    assert [len(g) for g in groups] == [4, 4, 2, 1]
    assert groups[-1] == ["lr"]
    assert sorted(r for g in groups for r in g) == sorted(configs)
    # a data draw is another input
    assert len(plan_groups(configs, 50, {r: ("a" if "tanh" in r else "b") for r in configs})) == 3
    # other families group by seed only
    sto = [_run_config(a, 0.0, 0, name="stochastic_mlp") for a in ("tanh", "relu")]
    assert group_key(sto[0]) != group_key(sto[1])
    assert group_key(_run_config("tanh", 0.0, 0)) == group_key(_run_config("relu", 0.1, 3))
    with pytest.raises(ValueError, match="at least 1"):
        plan_groups(configs, 0)


# ---------------------------------------------------------------------------------------------
# Through Snakemake: one job per group, per-run targets, kill and resume
# ---------------------------------------------------------------------------------------------

WF_EPOCHS = 150
WF_CONFIG = {
    "device": "cpu",
    "training_group_size": 3,
    "datasets": {"tishby12": {"generator": "tishby12", "seed": 0}},
    "estimators": {"binning_30": {"method": "binning", "bins": 30, "range": "fixed"}},
    "experiments": {
        "tishby2017": {
            "dataset": "tishby12",
            "model": {"hidden": [10, 7, 5, 4, 3]},
            "training": {"epochs": WF_EPOCHS, "lr": 0.001, "batch_size": 512},
            "capture": {"schedule": "list", "epochs": list(range(0, WF_EPOCHS + 1, 2))},
            "estimators": ["binning_30"],
            "figures": [],
            "claims": {"name": None},
            "sweep": {"activation": ["tanh"], "seed": [0, 1, 2, 3]},  # a group of 3 and a run alone
        }
    },
}
RUNS = [f"activation~tanh/seed~{s}" for s in range(4)]
GROUP_CKPT = "results/checkpoints/tishby2017/activation~tanh/seed~0+2/checkpoint.pt"
GROUP_LOG = "results/logs/train/tishby2017/activation~tanh/seed~0+2.log"


def _snakemake(work: Path, *args, log_name="snakemake.out") -> subprocess.Popen:
    out = open(work / log_name, "w")
    return subprocess.Popen(
        [*snakemake_cmd(), *args, "--cores", "1", "--configfile", "group.yaml"],
        cwd=work,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def test_dry_run_trains_a_group_in_one_job_and_a_run_target_still_works(tmp_path):
    work = copy_repo(tmp_path / "w")
    (work / "group.yaml").write_text(yaml.safe_dump(WF_CONFIG))
    out = subprocess.run(
        [*snakemake_cmd(), "-n", f"results/runs/tishby2017/{RUNS[1]}/metrics.csv", "--configfile", "group.yaml"],
        cwd=work,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    text = out.stdout + out.stderr
    assert "\ntrain_group_tishby2017_0 " in text and "\ntrain " not in text
    out = subprocess.run(
        [*snakemake_cmd(), "-n", "results/experiments/tishby2017/mi.csv", "--configfile", "group.yaml"],
        cwd=work,
        capture_output=True,
        text=True,
    )
    text = out.stdout + out.stderr
    lines = [line.split() for line in text.splitlines()]  # the Job stats table (its padding follows the longest name)
    assert ["train_group_tishby2017_0", "1"] in lines and ["train", "1"] in lines, text


@pytest.mark.slow
@pytest.mark.long  # over 40 s: CI runs it with `-m long`
def test_sigkilled_group_resumes_through_snakemake_to_identical_results(tmp_path):
    works = {}
    for name in ("straight", "killed"):
        works[name] = copy_repo(tmp_path / name)
        (works[name] / "group.yaml").write_text(yaml.safe_dump(WF_CONFIG))
    targets = [f"results/runs/tishby2017/{r}/mi/binning_30.csv" for r in RUNS[:3]]
    straight = _snakemake(works["straight"], *targets)
    killed = works["killed"]
    proc = _snakemake(killed, *targets, log_name="first.out")
    ckpt = killed / GROUP_CKPT
    deadline = time.monotonic() + 240
    try:
        while not ckpt.exists():
            assert proc.poll() is None, (
                "snakemake ended before the group checkpoint:\n" + (killed / "first.out").read_text()
            )
            assert time.monotonic() < deadline, "no group checkpoint within 240 s"
            time.sleep(0.05)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    saved = torch.load(ckpt, weights_only=True)["epoch"]
    assert 0 < saved < WF_EPOCHS
    subprocess.run(
        [*snakemake_cmd(), "--unlock", "--configfile", "group.yaml"], cwd=killed, check=True, capture_output=True
    )
    again = _snakemake(killed, *targets, log_name="second.out")
    assert again.wait(timeout=300) == 0, (killed / "second.out").read_text()[-4000:]
    assert f"resuming from the checkpoint at epoch {saved}" in (killed / GROUP_LOG).read_text()
    assert straight.wait(timeout=300) == 0, (works["straight"] / "snakemake.out").read_text()[-4000:]
    for run in RUNS[:3]:
        a, b = works["straight"] / f"results/runs/tishby2017/{run}", killed / f"results/runs/tishby2017/{run}"
        assert (a / "metrics.csv").read_bytes() == (b / "metrics.csv").read_bytes()
        for store in ("weights.zarr", "activations.zarr"):
            assert load_store(a / store).identical(load_store(b / store)), (run, store)
        ma, mb = pd.read_csv(a / "mi/binning_30.csv"), pd.read_csv(b / "mi/binning_30.csv")
        pd.testing.assert_frame_equal(ma.drop(columns="seconds"), mb.drop(columns="seconds"))
    assert not ckpt.parent.exists()  # published, then dropped


def test_schedule_defaults_keep_a_group_vectorised_and_a_set_schedule_falls_back():
    """The schema's defaults of the schedule keys (no drops, factor 0.1, no B0 rules) change nothing, so
    they must not stop a group; set drops or the regime rules train one at a time (not vectorised here)."""
    defaults = {"lr_drop_epochs": [], "lr_drop_factor": 0.1, "reference_batch_size": 64, "sqrt_lr": False}
    plain = _run_config()
    plain["training"].update(defaults, adapt_regime=False)
    assert unvectorised_settings(plain["training"]) == [] and vectorisable(plain)
    dropped = {**plain["training"], "lr_drop_epochs": [10]}
    assert unvectorised_settings(dropped) == ["lr_drop_epochs", "lr_drop_factor"]
    adapted = {**plain["training"], "sqrt_lr": True, "adapt_regime": True}
    assert unvectorised_settings(adapted) == ["adapt_regime", "reference_batch_size", "sqrt_lr"]


def test_a_member_trains_its_adapted_regime(task):
    """Regime adaptation (Hoffer et al. 2017) is applied as the job of a single run applies it: batch 512
    from B0 = 128 on 2048 training rows gives lr x 2 (sqrt rule) and epochs and drops x 4."""
    ds = task[0]
    cfg = _run_config(epochs=5)
    cfg["training"].update(
        lr_drop_epochs=[2], lr_drop_factor=0.1, reference_batch_size=128, sqrt_lr=True, adapt_regime=True
    )
    assert int(ds["is_train"].values.sum()) >= 512
    m = build_member("adapted", cfg, ds, "unused")
    assert (m.cfg.epochs, list(m.cfg.lr_drop_epochs), m.cfg.lr) == (20, [8], pytest.approx(0.02))


def test_a_flush_writes_each_run_what_its_own_snapshots_give():
    """The group keeps one stacked copy per capture; each run's Dataset at a flush must be what
    train() writes for that run: its own snapshots concatenated along epoch (names, dims, attrs, dtypes)."""
    import xarray as xr
    from infoplane.models.mlp import MLP
    from infoplane.models.stacked import StackedMLP
    from infoplane.training.group import _run_weights
    from infoplane.training.train import parameters_snapshot

    models = []
    for seed in range(3):
        torch.manual_seed(seed)
        models.append(MLP(12, [10, 7], 2, "tanh"))
    model = StackedMLP(models)
    pending, own = [], [[] for _ in models]
    for epoch in (0, 1, 5):
        with torch.no_grad():
            for w in model.weights:
                w.add_(torch.randn_like(w))
        pending.append((epoch, [(n, t.detach().numpy().astype(np.float32)) for n, t in model.stacked_parameters()]))
        for g in range(len(models)):
            own[g].append(parameters_snapshot(model.run_parameters(g), epoch))
    for g in range(len(models)):
        expected = xr.concat(own[g], dim="epoch")
        got = _run_weights(pending, g)
        assert got.identical(expected)
        assert list(got.data_vars) == list(expected.data_vars)
        assert all(got[v].dtype == expected[v].dtype for v in got.variables)
