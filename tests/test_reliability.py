"""Reliability: a training job killed by SIGKILL resumes through Snakemake; bad data and damaged
stores give clear errors; checkpoints, YAML and run wildcards are safe."""

from __future__ import annotations

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
        cwd=work, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
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
            assert proc.poll() is None, "snakemake ended before the first checkpoint:\n" + (killed / "first.out").read_text()
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
        subprocess.run([*snakemake_cmd(), "--unlock", "--configfile", "resume.yaml"], cwd=killed, check=True,
                       capture_output=True)
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
