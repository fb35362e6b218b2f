"""Reliability: a training job killed by SIGKILL resumes through Snakemake; bad data and damaged
stores give clear errors; checkpoints, YAML and run wildcards are safe."""

from __future__ import annotations

import ast
import contextlib
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import xarray as xr
import yaml
from conftest import REPO, copy_repo, snakemake_cmd
from infoplane.analysis import run_mi_table
from infoplane.analysis.run_mi import NonFiniteActivations
from infoplane.estimators import estimate
from infoplane.io import load_store, open_store, write_new


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    """Small problems: one torch thread is faster, and fair to the other jobs on a shared machine.

    Module-scoped, so the uninterrupted reference run and the resumed runs use the same threads.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# ---------------------------------------------------------------------------------------------
# Resume after SIGKILL, through Snakemake
# ---------------------------------------------------------------------------------------------

RUN = "activation~tanh/seed~0"
RUN_DIR = f"results/runs/tishby2017/{RUN}"
TARGET = f"{RUN_DIR}/mi/binning_30.csv"
CHECKPOINT = f"results/checkpoints/tishby2017/{RUN}/checkpoint.pt"
TRAIN_LOG = f"results/logs/train/tishby2017/{RUN}.log"

# One tanh run; 76 captures, so the resumable state is written after captures 25 and 50 (flush_every)
# and the first checkpoint appears about a third of the way through training (~10-20 s in all).
EPOCHS = 150
RESUME_CONFIG = {
    "device": "cpu",
    "datasets": {"tishby12": {"generator": "tishby12", "seed": 0}},
    "estimators": {"binning_30": {"method": "binning", "bins": 30, "range": "fixed"}},
    "experiments": {
        "tishby2017": {
            "dataset": "tishby12",
            "model": {"hidden": [10, 7, 5, 4, 3]},
            "training": {"epochs": EPOCHS, "lr": 0.001, "batch_size": 512},
            "capture": {"schedule": "list", "epochs": list(range(0, EPOCHS + 1, 2))},
            "estimators": ["binning_30"],
            "figures": [],
            "claims": {"name": None},
            "sweep": {"activation": ["tanh"], "seed": [0]},
        }
    },
}


def _start(work: Path, log_name: str) -> subprocess.Popen:
    """snakemake for the run's MI table, in its own process group (so the whole job tree can be killed)."""
    out = open(work / log_name, "w")
    return subprocess.Popen(
        [*snakemake_cmd(), TARGET, "--cores", "1", "--configfile", "resume.yaml"],
        cwd=work,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _finish(proc: subprocess.Popen, work: Path, log_name: str, timeout: float = 240) -> str:
    proc.wait(timeout=timeout)
    text = (work / log_name).read_text()
    assert proc.returncode == 0, f"snakemake failed in {work}:\n{text[-4000:]}"
    return text


def _without_seconds(path: Path) -> list[str]:
    lines = path.read_text().splitlines()
    col = lines[0].split(",").index("seconds")
    return [",".join(f for i, f in enumerate(line.split(",")) if i != col) for line in lines]


@pytest.mark.slow
@pytest.mark.long  # over 40 s: CI runs it with `-m long`
def test_sigkilled_training_resumes_through_snakemake_to_identical_results(tmp_path):
    # The default profile must set rerun-incomplete, or a rerun after a kill stops and asks for it.
    profile = yaml.safe_load((REPO / "workflow/profiles/default/config.yaml").read_text())
    assert profile.get("rerun-incomplete") is True

    works = {}
    for name in ("straight", "killed"):
        works[name] = copy_repo(tmp_path / name)
        (works[name] / "resume.yaml").write_text(yaml.safe_dump(RESUME_CONFIG))

    # The uninterrupted reference runs beside the killed one.
    straight = _start(works["straight"], "snakemake.out")
    killed = works["killed"]
    proc = _start(killed, "first.out")
    ckpt = killed / CHECKPOINT
    deadline = time.monotonic() + 180
    try:
        while not ckpt.exists():
            assert proc.poll() is None, (
                "snakemake ended before the first checkpoint:\n" + (killed / "first.out").read_text()
            )
            assert time.monotonic() < deadline, "no checkpoint within 180 s"
            time.sleep(0.05)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # snakemake and its job, mid-training
        proc.wait()
    assert ckpt.exists() and not (killed / RUN_DIR / "weights.zarr").exists(), "killed after training finished"
    saved_epoch = torch.load(ckpt, weights_only=True)["epoch"]
    assert 0 < saved_epoch < EPOCHS

    # Run again as a user would. Snakemake itself was killed, so its lock is left behind: the same
    # command stops, naming --unlock; after `snakemake --unlock` it goes on (rerun-incomplete from
    # the default profile) and training resumes from the checkpoint.
    again, out = _start(killed, "second.out"), "second.out"
    again.wait(timeout=300)
    if again.returncode != 0:
        assert "--unlock" in (killed / out).read_text()
        subprocess.run(
            [*snakemake_cmd(), "--unlock", "--configfile", "resume.yaml"],
            cwd=killed,
            check=True,
            capture_output=True,
        )
        again, out = _start(killed, "third.out"), "third.out"
    text = _finish(again, killed, out)
    train_log = (killed / TRAIN_LOG).read_text()
    assert f"resuming from the checkpoint at epoch {saved_epoch}" in train_log, train_log + text
    _finish(straight, works["straight"], "snakemake.out")

    a, b = works["straight"] / RUN_DIR, killed / RUN_DIR
    # Byte-identical but for the `seconds` column (wall-clock time per estimate, never reproducible).
    assert _without_seconds(a / "mi/binning_30.csv") == _without_seconds(b / "mi/binning_30.csv")
    assert (a / "metrics.csv").read_bytes() == (b / "metrics.csv").read_bytes()
    for store in ("weights.zarr", "activations.zarr"):
        sa, sb = load_store(a / store), load_store(b / store)
        assert sa.sizes["epoch"] == EPOCHS // 2 + 1
        assert sa.identical(sb), store
    assert not (killed / CHECKPOINT).parent.exists()  # published, then dropped


# Kills at every step of writing the resumable state, in-process (tests/test_training.py kills
# between epochs). Each must resume, or start over, and end identical to an uninterrupted run.


class Kill(Exception):
    pass


def _train(work_dir):
    from infoplane.models import MLP
    from infoplane.training import TrainConfig, capture_epochs, train

    ds = _tiny_task()
    torch.manual_seed(0)
    model = MLP(12, [10, 7, 5, 4, 3], 2, "tanh")
    cfg = TrainConfig(epochs=20, lr=0.01, batch_size=512, seed=1, flush_every=2)
    capture = capture_epochs(20, "list", epochs=[0, 1, 2, 3, 5, 8, 13, 20])
    x, y = torch.as_tensor(ds["x"].values), torch.as_tensor(ds["y"].values)
    train(model, x, y, torch.as_tensor(ds["is_train"].values), cfg, capture, work_dir)


_TASK = {}


def _tiny_task():
    from infoplane.data import build_dataset

    if "ds" not in _TASK:
        _TASK["ds"] = build_dataset("tishby12", seed=0)
    return _TASK["ds"]


def _kill_on_call(monkeypatch, owner, name, n, before=None):
    """Make the n-th call of owner.name raise Kill; ``before(args)`` runs first on that call."""
    real, calls = getattr(owner, name), {"n": 0}

    def wrapper(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == n:
            if before is not None:
                before(real, *args, **kwargs)
            raise Kill
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, wrapper)


@pytest.fixture(scope="module")
def straight_run(tmp_path_factory):
    from infoplane.training import publish

    work = tmp_path_factory.mktemp("straight")
    _train(work / "work")
    publish(work / "work", work / "weights.zarr", work / "metrics.csv")
    return load_store(work / "weights.zarr"), (work / "metrics.csv").read_bytes()


def _resume_and_compare(work, straight_run):
    from infoplane.training import publish

    _train(work / "work")
    publish(work / "work", work / "out/weights.zarr", work / "out/metrics.csv")
    weights, metrics = straight_run
    assert (work / "out/metrics.csv").read_bytes() == metrics
    resumed = load_store(work / "out/weights.zarr")
    assert resumed.identical(weights)
    for name, var in weights.variables.items():  # the same layout: chunked by epoch
        assert resumed[name].encoding["chunks"] == var.encoding["chunks"], name


def _append_partially(real, ds, path, dim="epoch"):
    """An append killed after Zarr grew the arrays but before it wrote every chunk."""
    real(ds, path, dim)
    chunks = sorted((Path(path) / "layer0_weight/c").iterdir(), key=lambda p: int(p.name))
    for f in chunks[-1].rglob("*"):
        if f.is_file():
            f.unlink()


@pytest.mark.parametrize(
    "kill_at",
    [
        "checkpoint save",  # weights and metrics written, checkpoint still the previous one
        "metrics write",  # weights appended, metrics half written
        "weights append",  # arrays grown, chunks missing
    ],
)
def test_kill_while_writing_the_resumable_state(tmp_path, monkeypatch, straight_run, kill_at):
    from infoplane.io import zarr_store

    def half_csv(real, frame, path, **kwargs):
        text = real(frame, None, **kwargs)
        Path(path).write_text(text[: len(text) // 2])

    with monkeypatch.context() as m:
        if kill_at == "checkpoint save":
            _kill_on_call(m, torch, "save", 2)
        elif kill_at == "metrics write":
            _kill_on_call(m, pd.DataFrame, "to_csv", 2, before=half_csv)
        else:
            _kill_on_call(m, zarr_store, "append", 2, before=_append_partially)
        with pytest.raises(Kill):
            _train(tmp_path / "work")
    assert (tmp_path / "work/checkpoint.pt").exists()
    _resume_and_compare(tmp_path, straight_run)


def test_kill_while_publishing_then_rerun(tmp_path, monkeypatch, straight_run):
    import shutil

    from infoplane.training import publish

    _train(tmp_path / "work")
    with monkeypatch.context() as m:
        _kill_on_call(m, shutil, "move", 2)  # weights moved, metrics not
        with pytest.raises(Kill):
            publish(tmp_path / "work", tmp_path / "out/weights.zarr", tmp_path / "out/metrics.csv")
    shutil.rmtree(tmp_path / "out")  # snakemake removes the outputs of an incomplete job
    _resume_and_compare(tmp_path, straight_run)


def test_lost_weights_store_starts_over(tmp_path, monkeypatch, straight_run):
    import shutil

    with monkeypatch.context() as m:
        _kill_on_call(m, torch, "save", 3)
        with pytest.raises(Kill):
            _train(tmp_path / "work")
    shutil.rmtree(tmp_path / "work/weights.zarr")  # e.g. a kill between removing and renaming it
    _resume_and_compare(tmp_path, straight_run)


# ---------------------------------------------------------------------------------------------
# Bad data: a diverged run, damaged stores, bad estimator input
# ---------------------------------------------------------------------------------------------

EPOCH_VALUES = [0, 3, 7, 12]


def _small_dataset(n: int = 256, seed: int = 0) -> xr.Dataset:
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 2, (n, 12)).astype(np.float32)
    y = (x[:, :3].sum(1) % 2).astype(np.int64)
    return xr.Dataset({"x": (("sample", "feature"), x), "y": ("sample", y), "is_train": ("sample", np.ones(n, bool))})


def _activations(dataset: xr.Dataset, seed: int = 1) -> xr.Dataset:
    """Three tanh layers at four epochs over the dataset's inputs, every value finite."""
    rng = np.random.default_rng(seed)
    h, data = dataset["x"].values.astype(np.float64), {}
    for layer, units in enumerate((6, 4, 3), start=1):
        acts = np.stack([np.tanh(h @ rng.standard_normal((h.shape[1], units)) * (1 + e)) for e in range(4)])
        data[f"layer{layer}"] = (("epoch", "sample", f"unit_layer{layer}"), acts.astype(np.float32))
        h = acts[-1]
    return xr.Dataset(data, coords={"epoch": EPOCH_VALUES})


def _diverge(acts: xr.Dataset, epoch: int, layer: int, value=np.nan) -> xr.Dataset:
    acts = acts.copy(deep=True)
    i = EPOCH_VALUES.index(epoch)
    acts[f"layer{layer}"].values[i, 5, 1] = value
    return acts


class ListLog:
    def __init__(self):
        self.messages = []

    def warning(self, msg, *args):
        self.messages.append(msg % args)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_nonfinite_activations_fail_naming_run_epoch_and_layer(value):
    ds = _small_dataset()
    acts = _diverge(_activations(ds), epoch=7, layer=2, value=value)
    assert np.isfinite(run_mi_table(_activations(ds), ds, "binning", {"bins": 10}, device="cpu")["mi_bits"]).all()
    with pytest.raises(NonFiniteActivations) as err:
        run_mi_table(acts, ds, "binning", {"bins": 10}, device="cpu", run="exp/activation~tanh/seed~0")
    msg = str(err.value)
    assert "'exp/activation~tanh/seed~0'" in msg and "layer 2" in msg and "epochs [7]" in msg, msg
    assert isinstance(err.value, ValueError)


def test_nonfinite_activations_skipped_when_asked_and_the_log_says_why():
    ds = _small_dataset()
    clean = run_mi_table(_activations(ds), ds, "binning", {"bins": 10}, device="cpu")
    acts = _diverge(_diverge(_activations(ds), epoch=7, layer=2), epoch=12, layer=2, value=np.inf)
    log = ListLog()
    table = run_mi_table(acts, ds, "binning", {"bins": 10}, device="cpu", run="exp/r", on_nonfinite="skip", log=log)
    assert len(log.messages) == 1
    assert "'exp/r'" in log.messages[0] and "layer 2" in log.messages[0] and "[7, 12]" in log.messages[0]
    dropped = (table["layer"] == 2) & table["epoch"].isin([7, 12])
    assert not dropped.any()
    # Everything else is kept, unchanged: 4 epochs x 3 layers x 2 quantities, minus 2 epochs x 2 quantities.
    assert len(table) == len(clean) - 4 == 20
    kept = clean[~((clean["layer"] == 2) & clean["epoch"].isin([7, 12]))].reset_index(drop=True)
    pd.testing.assert_frame_equal(table.drop(columns="seconds"), kept.drop(columns="seconds"))
    assert np.isfinite(table["mi_bits"]).all()
    # binning has no interval: its CI columns are empty throughout, never a NaN among numbers.
    assert table["ci_low_bits"].isna().all() and table["ci_high_bits"].isna().all()


def _nan_at_epoch_7(monkeypatch):
    """An estimator that returns NaN for one epoch's (finite) activations of layer 2: a numerical failure."""
    from infoplane.estimators import ESTIMATORS
    from infoplane.estimators.base import EstimatorSpec

    def fn(x, y):
        # fails on layer 2 at epoch 7 only, whose units the test sets to exactly +-1
        return float("nan") if x.shape[1] == 4 and bool((x.abs() == 1).all()) else 0.5

    monkeypatch.setitem(ESTIMATORS, "nan_at_7", EstimatorSpec("nan_at_7", fn, ci="none", labels_ok=True))


def test_nonfinite_estimate_is_never_written_silently(monkeypatch):
    _nan_at_epoch_7(monkeypatch)
    ds = _small_dataset()
    acts = _activations(ds)
    acts["layer2"].values[2] = np.sign(acts["layer2"].values[2])  # epoch 7: saturated, exactly +-1
    with pytest.raises(ValueError, match=r"non-finite estimate .*run 'exp/r', layer 2, epochs \[7\]"):
        run_mi_table(acts, ds, "nan_at_7", {"ci": False}, device="cpu", run="exp/r")
    log = ListLog()
    table = run_mi_table(acts, ds, "nan_at_7", {"ci": False}, device="cpu", run="exp/r", on_nonfinite="skip", log=log)
    assert np.isfinite(table["mi_bits"]).all()
    assert set(table.loc[table["layer"] == 2, "epoch"]) == {0, 3, 12}
    assert len(log.messages) == 1 and "layer 2, epochs [7]" in log.messages[0]


@pytest.mark.parametrize(
    "value",
    [
        np.nan,
        np.inf,  # tanh(inf) = 1 is finite: extraction itself must mark the layer
    ],
)
def test_nonfinite_weights_reach_the_mi_job_as_an_error_naming_the_epoch_and_layer(value):
    from infoplane.extraction import activations
    from infoplane.models import MLP
    from infoplane.training import weights_snapshot

    ds = _small_dataset()
    torch.manual_seed(0)
    model = MLP(12, [6, 4, 3], 2, "tanh")
    weights = xr.concat([weights_snapshot(model, e) for e in EPOCH_VALUES], dim="epoch")
    weights["layer2_weight"].values[2, 0, 0] = value  # epoch 7, the layer numbered 3
    acts = activations(model, weights, torch.as_tensor(ds["x"].values))
    with pytest.raises(NonFiniteActivations, match=r"run 'exp/r', layer 3, epochs \[7\]"):
        run_mi_table(acts, ds, "binning", {"bins": 10}, device="cpu", run="exp/r")


def _store(tmp_path: Path) -> Path:
    path = tmp_path / "activations.zarr"
    from infoplane.io import append

    acts = _activations(_small_dataset(64))
    for e in range(len(EPOCH_VALUES)):  # as training writes: appended, chunked by epoch
        append(acts.isel(epoch=[e]), path)
    assert load_store(path).identical(acts.load())
    return path


def test_deleted_chunk_is_an_error_naming_the_path(tmp_path):
    path = _store(tmp_path)
    chunk = path / "layer2/c/1/0/0"
    assert chunk.is_file()
    chunk.unlink()  # Zarr alone would read the chunk back as NaN, silently
    with pytest.raises(ValueError, match=re.escape(f"activations store {str(path)!r} is damaged")) as err:
        load_store(path, "activations store")
    assert "layer2" in str(err.value)


def test_all_fill_value_chunks_are_kept(tmp_path):
    # A chunk of NaN (a diverged epoch) or of zeros must be written, or it would read as missing.
    ds = xr.Dataset(
        {"w": (("epoch", "u"), np.array([[np.nan, np.nan], [0.0, 0.0]], np.float32))},
        coords={"epoch": [0, 1]},
    )
    write_new(ds, tmp_path / "a.zarr", {"w": {"chunks": (1, 2)}})
    assert load_store(tmp_path / "a.zarr").identical(ds)


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda p: (p / "zarr.json").write_text("{not json"), id="junk-root-metadata"),
        pytest.param(lambda p: (p / "layer1/zarr.json").write_text("junk"), id="junk-array-metadata"),
        pytest.param(lambda p: (p / "zarr.json").unlink(), id="no-root-metadata"),
        pytest.param(lambda p: (p / "layer1/c/0/0/0").write_bytes(b"\x00\x01\x02"), id="truncated-chunk"),
        pytest.param(
            lambda p: (p / "layer3/c/3/0/0").write_bytes((p / "layer3/c/3/0/0").read_bytes()[:-7]),
            id="cut-chunk",
        ),
        pytest.param(lambda p: [f.unlink() for f in p.rglob("*") if f.is_file()], id="emptied"),
    ],
)
def test_damaged_store_is_an_error_naming_the_path(tmp_path, damage):
    path = _store(tmp_path)
    damage(path)
    with pytest.raises(ValueError, match=re.escape(f"activations store {str(path)!r}")):
        load_store(path, "activations store")


def test_missing_store_is_an_error_naming_the_path(tmp_path):
    with pytest.raises(ValueError, match=re.escape(f"weights store {str(tmp_path / 'no.zarr')!r} does not exist")):
        open_store(tmp_path / "no.zarr", "weights store")


@pytest.mark.parametrize(("method", "params"), [("ksg", {"k": 3}), ("binning", {"bins": 5}), ("kde", {})])
def test_estimators_reject_bad_input_with_clear_messages(method, params):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((60, 2)), rng.standard_normal((60, 1))
    labels = rng.integers(0, 2, 60)
    assert np.isfinite(estimate(method, x, labels, ci=False, **params).mi_bits)  # good input passes
    with pytest.raises(ValueError, match="x and y must have the same number of samples, got 60 and 59"):
        estimate(method, x, labels[:59], **params)
    with pytest.raises(ValueError, match="x and y must have the same number of samples, got 59 and 60"):
        estimate(method, x[:59], y, **params)
    for value, where in ((np.nan, "x"), (np.inf, "y"), (-np.inf, "x")):
        bad_x, bad_y = x.copy(), y.copy()
        (bad_x if where == "x" else bad_y)[7, 0] = value
        with pytest.raises(ValueError, match=f"{where} contains 1 non-finite values"):
            estimate(method, bad_x, bad_y, **params)
    with pytest.raises(ValueError, match=r"x must have shape \(n, d\) or \(n,\), got \(60, 2, 1\)"):
        estimate(method, x[:, :, None], y, **params)
    with pytest.raises(ValueError, match=r"y must have shape \(n, d\) or \(n,\), got \(\)"):
        estimate(method, x, np.float64(1.0), **params)
    with pytest.raises(ValueError, match="x is empty"):
        estimate(method, x[:0], y[:0], **params)


def test_knn_rejects_too_few_samples_for_k():
    x = np.random.default_rng(0).standard_normal((5, 2))
    with pytest.raises(ValueError, match="KSG with k=5 needs at least 6 samples, got n=5"):
        estimate("ksg", x, x[:, :1], k=5, ci=False)
    with pytest.raises(ValueError, match="k must be an integer >= 1, got 0"):
        estimate("ksg", x, x, k=0, ci=False)
    assert np.isfinite(estimate("ksg", x, x[:, :1] + 1, k=4, ci=False).mi_bits)  # n = k + 1 is enough


@pytest.mark.slow
def test_diverged_run_fails_its_estimate_job_or_is_skipped_when_config_says_so(tmp_path):
    """Through snakemake: NaN at epoch 7, layer 2 of a run's activations store."""
    from infoplane.data import build_dataset
    from infoplane.extraction import write_activations

    work = copy_repo(tmp_path / "work")
    (work / "error.yaml").write_text(yaml.safe_dump(RESUME_CONFIG))
    (work / "skip.yaml").write_text(yaml.safe_dump({**RESUME_CONFIG, "on_nonfinite": "skip"}))
    ds = build_dataset("tishby12", seed=0)
    write_new(ds, work / "results/datasets/tishby12.zarr")
    write_activations(_diverge(_activations(ds), epoch=7, layer=2), work / RUN_DIR / "activations.zarr")
    log = work / f"results/logs/estimate/tishby2017/{RUN}/binning_30.log"
    table = work / TARGET

    def estimate_job(configfile):
        # only the estimate rule: the dataset and activations above stand in for a finished run
        cmd = [*snakemake_cmd(), TARGET, "--cores", "1", "--allowed-rules", "estimate", "--configfile", configfile]
        return subprocess.run(cmd, cwd=work, capture_output=True, text=True)

    out = estimate_job("error.yaml")
    assert out.returncode != 0
    expected = f"non-finite activations (NaN or inf) in run 'tishby2017/{RUN}', layer 2, epochs [7]"
    assert expected in log.read_text()
    assert expected in out.stdout + out.stderr  # the profile shows the failed job's log
    assert not table.exists()  # nothing half-written

    out = estimate_job("skip.yaml")
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert f"skipping non-finite activations in run 'tishby2017/{RUN}', layer 2, epochs [7]" in log.read_text()
    mi = pd.read_csv(table)
    assert len(mi) == 4 * 3 * 2 - 2
    assert not ((mi["layer"] == 2) & (mi["epoch"] == 7)).any()
    assert np.isfinite(mi["mi_bits"]).all()


# ---------------------------------------------------------------------------------------------
# Safety: checkpoints, YAML, run wildcards
# ---------------------------------------------------------------------------------------------

SOURCES = sorted([*(REPO / "workflow").rglob("*.py"), *(REPO / "scripts").rglob("*.py")])
SNAKE_SOURCES = sorted([REPO / "Snakefile", *(REPO / "workflow/rules").glob("*.smk")])


def _calls(path: Path):
    """Every call in a Python file as (dotted name of the callee, ast.Call)."""
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Call):
            yield ast.unparse(node.func), node


def _keyword(call, name):
    for kw in call.keywords:
        if kw.arg == name:
            return ast.unparse(kw.value)
    return None


def test_every_torch_load_uses_weights_only():
    loads = [(p, c) for p in SOURCES for name, c in _calls(p) if name == "torch.load"]
    assert loads, "no torch.load found: the checkpoint loader moved?"
    bad = [f"{p.relative_to(REPO)}:{c.lineno}" for p, c in loads if _keyword(c, "weights_only") != "True"]
    assert not bad, f"torch.load without weights_only=True at {bad}"
    # `from torch import load` or an alias would slip past the call check
    text = "\n".join(p.read_text() for p in [*SOURCES, *SNAKE_SOURCES])
    assert not re.search(r"from\s+torch\s+import\s+[^\n]*\bload\b", text)
    assert not re.search(r"\bpickle\.loads?\(|\bdill\.|\bjoblib\.load\(", text)


def test_yaml_is_read_with_a_safe_loader():
    py_calls = [(p, name, c) for p in SOURCES for name, c in _calls(p) if name.startswith("yaml.")]
    assert any(name == "yaml.safe_load" for _, name, _ in py_calls)  # the config reader
    bad = []
    for p, name, c in py_calls:
        if name in ("yaml.unsafe_load", "yaml.unsafe_load_all", "yaml.full_load", "yaml.full_load_all"):
            bad.append(f"{p.relative_to(REPO)}:{c.lineno} {name}")
        elif name in ("yaml.load", "yaml.load_all"):
            loader = _keyword(c, "Loader") or (ast.unparse(c.args[1]) if len(c.args) > 1 else None)
            if loader not in ("yaml.SafeLoader", "yaml.CSafeLoader", "SafeLoader", "CSafeLoader"):
                bad.append(f"{p.relative_to(REPO)}:{c.lineno} {name} with Loader={loader}")
    assert not bad, bad
    snake_text = "\n".join(p.read_text() for p in SNAKE_SOURCES)
    assert not re.search(r"yaml\.(unsafe_load|full_load|load)\b(?!.*SafeLoader)", snake_text)
    assert not re.search(r"typ\s*=\s*['\"]unsafe['\"]", "\n".join(p.read_text() for p in SOURCES))


def _constraint(name: str) -> str:
    text = (REPO / "workflow/rules/common.smk").read_text()
    block = text[text.index("wildcard_constraints:") :]
    m = re.search(rf"^\s+{name}\s*=\s*r?\"([^\"]+)\",", block, re.MULTILINE)
    assert m, f"no wildcard constraint for {name!r} in common.smk"
    return m.group(1)


RUN_NAMES_OK = ["activation~tanh/seed~3", "seed~0", "lr~0.0004/batch_size~512/seed~0", "l2~1e-05/seed~2"]
RUN_NAMES_BAD = [
    "../x",
    "/etc",
    "a~b/../../c",
    "..",
    ".",
    "",
    "a~b/",
    "/a~b",
    "a~b//c~d",
    "a~b/./c~d",
    "~b",
    "a~",
    "a~b/..",
    "a~b/../c~d",
    "a~b\\..\\c",
    "a~b\n",
    "a b~c",
    "..~x/../../etc",
    "a~b/~/c",
    "a~b/c",
]


@pytest.mark.parametrize("run", RUN_NAMES_OK)
def test_run_wildcard_accepts_sweep_points(run):
    assert re.fullmatch(_constraint("run"), run)


@pytest.mark.parametrize("run", RUN_NAMES_BAD)
def test_run_wildcard_rejects_names_that_could_leave_results(run):
    assert not re.fullmatch(_constraint("run"), run)


def test_sweep_run_names_match_the_wildcard():
    from infoplane.config import expand_runs

    runs = expand_runs({"sweep": {"activation": ["tanh", "relu"], "lr": [0.0004, 1e-5], "seed": [0, 11]}})
    assert len(runs) == 8
    for run in runs:
        assert re.fullmatch(_constraint("run"), run), run


def test_no_run_name_the_wildcard_accepts_climbs_out_of_its_run_directory():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    pattern = _constraint("run")

    @settings(max_examples=100, deadline=None)
    @given(st.from_regex(pattern, fullmatch=True))
    def check(run):
        base = os.path.normpath("results/runs/experiment")
        path = os.path.normpath(os.path.join(base, run, "weights.zarr"))
        assert path.startswith(base + os.sep) and ".." not in Path(path).parts, run

    check()


@pytest.mark.parametrize("name", ["experiment", "dataset", "estimator", "figure"])
def test_single_component_wildcards_reject_paths(name):
    pattern = _constraint(name)
    assert re.fullmatch(pattern, "tishby2017")
    for bad in ("..", "../x", "/etc", "a/b", "", "a.b"):
        assert not re.fullmatch(pattern, bad), (name, bad)
