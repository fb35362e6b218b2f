"""A stale Snakemake lock (its run was killed) is named in one line with the command that removes it;
a lock that a running Snakemake holds is left alone."""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
from conftest import REPO, snakemake_cmd
from infoplane.cli import main
from infoplane.locks import lock_files, lock_state, snakemake_processes, stale_lock_message, unlock_command


def _write_locks(work: Path, inputs: list[str], outputs: list[str]) -> None:
    """Lock files as Snakemake writes them: .snakemake/locks/0.input.lock and 0.output.lock, a path a line."""
    locks = work / ".snakemake/locks"
    locks.mkdir(parents=True)
    (locks / "0.input.lock").write_text("\n".join(inputs) + "\n")
    (locks / "0.output.lock").write_text("\n".join(outputs) + "\n")


def _process(proc: Path, pid: int, argv: list[str], cwd: Path | None) -> None:
    """A process as /proc shows it: cmdline (NUL-separated) and cwd (a link; a plain file cannot be read)."""
    (proc / str(pid)).mkdir(parents=True)
    (proc / str(pid) / "cmdline").write_bytes(b"\0".join(a.encode() for a in argv) + (b"\0" if argv else b""))
    if cwd is None:
        (proc / str(pid) / "cwd").write_text("")  # readlink fails as on another user's process
    else:
        (proc / str(pid) / "cwd").symlink_to(cwd)


def test_lock_state_from_the_process_table(tmp_path):
    work, other, proc = tmp_path / "work", tmp_path / "other", tmp_path / "proc"
    work.mkdir(), other.mkdir()
    assert lock_state(work) == ("unlocked", []) and stale_lock_message(work) is None
    _write_locks(work, ["in.txt", "results/a.csv"], ["results/a.csv"])
    _process(proc, 11, ["/usr/bin/python3", "/venv/bin/snakemake", "--cores", "2"], other)  # elsewhere
    _process(proc, 12, ["/usr/bin/time", "-f", "%e", "snakemake", "--cores", "2"], work)  # a wrapper: its child counts
    _process(proc, 13, [], work)  # a zombie: no command line
    _process(proc, 14, ["python3", "-m", "pytest", "tests"], work)
    (proc / "self").mkdir()
    assert snakemake_processes(work, proc) == ([], [])
    assert lock_state(work, proc) == ("stale", [])
    message = stale_lock_message(work, proc, user_dir=work)
    assert message.endswith("is stale: no Snakemake process runs in this directory on " + socket.gethostname()
                            + " (a killed run left it); remove it with: snakemake --unlock")  # fmt: skip
    assert "\n" not in message
    # A killed Snakemake's cluster jobs may still run: their ids, from its incomplete markers, are named.
    records = work / ".snakemake/incomplete"
    records.mkdir(parents=True)
    (records / "cmVzdWx0cy9hLmNzdg==").write_text(json.dumps({"external_jobid": "4242"}))
    (records / "cmVzdWx0cy9iLmNzdg==").write_text(json.dumps({"external_jobid": None}))  # a local job
    (records / "migration_underway").write_text("")
    message = stale_lock_message(work, proc, user_dir=work)
    assert "; first wait for or cancel the cluster jobs it submitted (4242); remove it with:" in message

    _process(proc, 15, ["/usr/bin/python3", "-m", "snakemake", "-n"], work)
    _process(proc, 16, ["snakemake", "--cores", "1"], work)
    assert lock_state(work, proc) == ("running", [15, 16]) and stale_lock_message(work, proc) is None
    _process(proc, 17, ["snakemake"], None)  # a Snakemake whose directory cannot be read: may hold the lock
    assert snakemake_processes(work, proc) == ([15, 16], [17])
    for pid in (15, 16):
        (proc / str(pid) / "cwd").unlink()
        (proc / str(pid) / "cwd").symlink_to(other)
    assert lock_state(work, proc) == ("unknown", [17]) and stale_lock_message(work, proc) is None
    assert lock_state(work, tmp_path / "no-proc") == ("unknown", [])  # no process table: never called stale


def test_unlock_command_is_exact_from_where_the_user_is(tmp_path):
    assert unlock_command(tmp_path, user_dir=tmp_path) == "snakemake --unlock"
    odd = tmp_path / "a dir"
    assert unlock_command(odd, user_dir=tmp_path) == f"cd {shlex.quote(str(odd))} && snakemake --unlock"
    # the arguments of the run that met the lock, which name its Snakefile, config and directory
    argv = ["-s", "../x/Snakefile", "--directory", "my run", "--cores", "2", "-n"]
    assert unlock_command(odd, argv=argv) == "snakemake -s ../x/Snakefile --directory 'my run' --cores 2 -n --unlock"


def _wait_for(condition, proc: subprocess.Popen, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert proc.poll() is None, f"snakemake ended before {what}"
        assert time.monotonic() < deadline, f"no {what} within {timeout} s"
        time.sleep(0.05)


@pytest.mark.slow
def test_a_killed_runs_lock_is_named_with_its_unlock_command_and_a_live_one_is_not(tmp_path, capsys):
    """Real locks: a Snakemake run holds one (live), is killed by SIGKILL (stale); the project's
    workflow then names it in one line, and the command in that line removes it."""
    work = tmp_path / "work"
    work.mkdir()
    # A run that writes the dataset the project's workflow would write, slowly, so it can be killed.
    (work / "Snakefile").write_text(
        'rule slow:\n    output: directory("results/datasets/tishby12.zarr")\n'
        '    shell: "sleep 120; mkdir -p {output}"\n'
    )
    run = subprocess.Popen([*snakemake_cmd(), "--cores", "1"], cwd=work, start_new_session=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    project = [*snakemake_cmd(), "-s", str(REPO / "Snakefile"), "--directory", str(work)]
    project += ["--configfile", str(REPO / ".test/config.yaml"), "--cores", "1", "results/datasets/tishby12.zarr"]
    try:
        _wait_for(lambda: lock_files(work), run, "lock")  # taken before the job starts; it has no input
        # The run's own pid; a child it has just forked (a job, before exec) shows the same command line.
        state, pids = lock_state(work)
        assert state == "running" and run.pid in pids
        assert main(["doctor", str(work)]) == 0
        line = capsys.readouterr().out
        assert "locked by a running Snakemake (pid " in line and str(run.pid) in line
        live = subprocess.run([*project, "-n"], cwd=tmp_path, capture_output=True, text=True)
        assert "is stale" not in live.stdout + live.stderr
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(run.pid, signal.SIGKILL)
        run.wait()
    assert [p.name for p in lock_files(work)] == ["0.output.lock"]  # left behind by the kill

    assert lock_state(work) == ("stale", [])
    assert main(["doctor", str(work)]) == 1
    assert "is stale" in capsys.readouterr().out
    # The user's next run stops on Snakemake's LockException, and one line says why and what to type.
    out = subprocess.run(project, cwd=tmp_path, capture_output=True, text=True)
    assert out.returncode != 0 and "LockException" in out.stdout + out.stderr
    lines = [line for line in out.stderr.splitlines() if line.startswith("infoplane:")]
    assert len(lines) == 1 and "is stale" in lines[0], out.stderr[-3000:]
    command = lines[0].split("remove it with: ")[1]
    assert command == shlex.join(["snakemake", *project[len(snakemake_cmd()) :], "--unlock"])  # the same run
    subprocess.run(["bash", "-c", command], cwd=tmp_path, check=True, capture_output=True)
    assert lock_files(work) == [] and lock_state(work) == ("unlocked", [])
