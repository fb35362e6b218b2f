"""The tiny test config through a real single-node SLURM gives the same MI tables as a local run.

Starts slurmctld + slurmd (+ munged) with tests/slurm_cluster.py, runs the workflow twice from
two fresh copies of the repository (tracked and untracked-but-not-ignored files, as a clean clone
has them): once locally with `--cores 2`, once with `--executor slurm` and the project's profile
(workflow/profiles/slurm, adapted to the one-node cluster by `write_local_profile`). Skipped, with
the reason, where the machine cannot run SLURM (not root, no apt). Every daemon it started is
stopped by PID at the end, whatever happened.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import copy_repo  # noqa: E402
from slurm_cluster import ClusterUnavailable, SlurmCluster, write_local_profile  # noqa: E402

pytestmark = [pytest.mark.slurm, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[1]
# INFOPLANE_SLURM_TEST_CONFIG: another config to try (relative to the repository, or absolute)
TEST_CONFIG = os.environ.get("INFOPLANE_SLURM_TEST_CONFIG", ".test/config.yaml")
RUN_TIMEOUT_S = 45 * 60


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A running cluster: one a person started (`slurm_cluster.py start`; left running), or our own."""
    existing = SlurmCluster()
    try:
        if existing.running():
            yield existing
            return
    except OSError:
        pass
    own = SlurmCluster(tmp_path_factory.mktemp("slurm-state"))
    try:
        try:
            own.start()
        except ClusterUnavailable as err:
            pytest.skip(f"no local SLURM cluster: {err}")
        yield own
    finally:
        own.stop()


def snakemake(args: list[str], cwd: Path, env: dict, log: Path) -> subprocess.Popen:
    """Start `python -m snakemake ARGS` in `cwd`, output to `log`."""
    env = {k: v for k, v in env.items() if not k.startswith("SLURM_") or k == "SLURM_CONF"}
    return subprocess.Popen(
        [sys.executable, "-m", "snakemake", *args],
        cwd=cwd,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )


def wait_all(procs: dict[str, tuple[subprocess.Popen, Path]]) -> dict[str, float]:
    """Wait for every run; the seconds each took; fail with the log's tail if one failed."""
    start, took = time.monotonic(), {}
    while len(took) < len(procs):
        for what, (proc, log) in procs.items():
            if what in took or proc.poll() is None:
                continue
            took[what] = time.monotonic() - start
            if proc.returncode != 0:
                tail = "\n".join(log.read_text(errors="replace").splitlines()[-60:])
                pytest.fail(f"{what} failed ({proc.returncode}); last lines of {log}:\n{tail}")
        if time.monotonic() - start > RUN_TIMEOUT_S:
            pytest.fail(f"still running after {RUN_TIMEOUT_S} s: {sorted(set(procs) - set(took))}")
        time.sleep(1)
    return took


def test_slurm_run_matches_local_run(cluster, tmp_path):
    if not (REPO / TEST_CONFIG).exists() or not (REPO / "Snakefile").exists():  # REPO / absolute = absolute
        pytest.fail(f"{TEST_CONFIG} or Snakefile missing in {REPO}")
    local_dir = copy_repo(tmp_path / "local")
    slurm_dir = copy_repo(tmp_path / "slurm")
    profile = write_local_profile(slurm_dir / "workflow/profiles/slurm", tmp_path / "slurm-profile")

    local_log, slurm_log = tmp_path / "local.log", tmp_path / "slurm.log"
    local = snakemake(["--cores", "2", "--configfile", TEST_CONFIG], local_dir, dict(os.environ), local_log)
    on_slurm = snakemake(
        ["--executor", "slurm", "--workflow-profile", str(profile), "--configfile", TEST_CONFIG]
        + ["--jobs", "4"],
        slurm_dir,
        cluster.env,
        slurm_log,
    )
    try:
        took = wait_all({"the local run": (local, local_log), "the SLURM run": (on_slurm, slurm_log)})
    finally:
        for proc in (local, on_slurm):
            if proc.poll() is None:
                proc.terminate()  # Snakemake cancels its SLURM jobs on SIGTERM
                proc.wait(timeout=120)
    print(", ".join(f"{what}: {s:.0f} s" for what, s in took.items()))

    # SLURM really ran the jobs: every job id Snakemake reports was allocated by this slurmctld,
    # and left its SLURM log (the profile for this cluster keeps the logs of successful jobs).
    job_ids = re.findall(r"submitted with SLURM jobid (\d+)", slurm_log.read_text())
    assert job_ids, f"the SLURM run submitted no job; see {slurm_log}"
    ctld_log = (cluster.log_dir / "slurmctld.log").read_text(errors="replace")
    # the main scheduler logs "sched: Allocate JobId=N", the backfill scheduler "backfill: Started JobId=N"
    allocated = set(re.findall(r"(?:Allocate|Started) JobId=(\d+)", ctld_log))
    assert set(job_ids) <= allocated, (
        f"jobs Snakemake submitted but SLURM never allocated: {set(job_ids) - allocated}"
    )
    slurm_logs = list((slurm_dir / ".snakemake/slurm_logs").rglob("*.log"))
    assert {p.stem for p in slurm_logs} >= set(job_ids), "a submitted job left no SLURM log"
    kinds = {p.relative_to(slurm_dir / ".snakemake/slurm_logs").parts[0] for p in slurm_logs}
    assert "rule_train" in kinds, f"no train job ran through SLURM: {sorted(kinds)}"
    assert any(k == "rule_estimate" or k.startswith("group_estimate") for k in kinds), (
        f"no estimate job ran through SLURM: {sorted(kinds)}"
    )

    # Same config, same seeds, same tables: byte-identical (the experiment tables carry no timings).
    local_tables = sorted(
        p.relative_to(local_dir) for p in (local_dir / "results/experiments").glob("*/mi.csv")
    )
    slurm_tables = sorted(
        p.relative_to(slurm_dir) for p in (slurm_dir / "results/experiments").glob("*/mi.csv")
    )
    assert local_tables, "the local run wrote no results/experiments/*/mi.csv"
    assert local_tables == slurm_tables
    experiments = yaml.safe_load((REPO / TEST_CONFIG).read_text())["experiments"]
    for rel in local_tables:
        local_bytes, slurm_bytes = (local_dir / rel).read_bytes(), (slurm_dir / rel).read_bytes()
        if experiments[rel.parts[-2]].get("estimators"):  # an experiment without estimators (hoffer2017) has none
            assert local_bytes.count(b"\n") > 1, f"{rel} has no rows"
        assert local_bytes == slurm_bytes, f"{rel} differs between the local and the SLURM run"
