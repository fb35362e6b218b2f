"""Snakemake's directory lock, and whether the process that took it is still running.

Snakemake locks a working directory by writing ``.snakemake/locks/{n}.input.lock`` and
``{n}.output.lock`` (the paths a run reads and writes, one per line) and removes them when it
ends. A run killed by SIGKILL, or a power loss, leaves them behind, and the next run stops on a
LockException. The lock files record no process id, so whether the lock is stale is decided from
the processes: a lock with no live Snakemake process whose working directory is this one is
stale. Where that cannot be known (no /proc, or a Snakemake process whose directory cannot be
read) it is not called stale. Nothing here removes a lock: ``snakemake --unlock`` does.

Only processes on this machine are seen: a Snakemake on another host that shares the file system
is invisible here, and the message says which host was looked at. Cluster jobs that a killed
Snakemake submitted may still run: their ids (from ``.snakemake/incomplete``) are named.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shlex
import socket
from pathlib import Path

LOCK_NAME = re.compile(r"[0-9]+\.(input|output)\.lock")


def unlock_command(workdir: str | Path = ".", argv: list[str] | None = None, user_dir=None) -> str:
    """The command that removes the lock, typed where the user is (``user_dir``, default: here).

    argv: the arguments of the run that met the lock; the same arguments with ``--unlock`` read the
    same Snakefile, config and directory, and only unlock. Without them: ``snakemake --unlock`` in
    ``workdir`` (its own Snakefile and default config).
    """
    if argv is not None:
        return shlex.join(["snakemake", *argv, "--unlock"])
    where = Path(workdir).resolve()
    if Path(user_dir or ".").resolve() == where:
        return "snakemake --unlock"
    return f"cd {shlex.quote(str(where))} && snakemake --unlock"


def lock_files(workdir: str | Path = ".") -> list[Path]:
    """The lock files Snakemake left in ``workdir/.snakemake/locks``, sorted ([] when unlocked)."""
    locks = Path(workdir) / ".snakemake" / "locks"
    if not locks.is_dir():
        return []
    return sorted(p for p in locks.iterdir() if LOCK_NAME.fullmatch(p.name) and p.is_file())


def submitted_jobs(workdir: str | Path = ".") -> list[str]:
    """Cluster job ids of the jobs Snakemake marked incomplete (``.snakemake/incomplete``, JSON
    records with ``external_jobid``; None for local jobs): after the Snakemake that submitted them
    died, these may still be running on the cluster."""
    incomplete = Path(workdir) / ".snakemake" / "incomplete"
    ids = set()
    for record in incomplete.rglob("*") if incomplete.is_dir() else []:
        try:
            job = json.loads(record.read_text()).get("external_jobid") if record.is_file() else None
        except (OSError, ValueError, AttributeError):  # a marker that is not a record
            continue
        if job is not None:
            ids.add(str(job))
    return sorted(ids)


def _is_snakemake(argv: list[str]) -> bool:
    """``snakemake ...``, ``python /path/bin/snakemake ...`` or ``python -m snakemake ...``."""
    if "snakemake" in [os.path.basename(a) for a in argv[:2]]:
        return True
    return any(a == "-m" and b == "snakemake" for a, b in itertools.pairwise(argv))


def snakemake_processes(workdir: str | Path = ".", proc: str | Path = "/proc") -> tuple[list[int], list[int]] | None:
    """(pids running Snakemake in ``workdir``, pids running Snakemake whose directory is unreadable).

    The calling process is left out. None when processes cannot be listed (no ``proc`` folder).
    """
    proc = Path(proc)
    if not proc.is_dir():
        return None
    here = Path(workdir).resolve()
    running, unknown = [], []
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:  # ended meanwhile, or not ours to read
            continue
        if not _is_snakemake([a for a in argv if a]):  # a zombie has an empty command line
            continue
        try:
            cwd = Path(os.readlink(entry / "cwd"))
        except FileNotFoundError:
            continue
        except OSError:
            unknown.append(int(entry.name))
            continue
        if cwd == here:
            running.append(int(entry.name))
    return sorted(running), sorted(unknown)


def lock_state(workdir: str | Path = ".", proc: str | Path = "/proc") -> tuple[str, list[int]]:
    """The state of ``workdir``'s lock and the pids it rests on.

    ``"unlocked"``; ``"running"`` (a Snakemake runs there: pids); ``"unknown"`` (processes cannot
    be listed, or Snakemake processes run whose directory cannot be read: pids); ``"stale"``.
    """
    if not lock_files(workdir):
        return "unlocked", []
    found = snakemake_processes(workdir, proc)
    if found is None:
        return "unknown", []
    running, unreadable = found
    if running:
        return "running", running
    return ("unknown", unreadable) if unreadable else ("stale", [])


def stale_lock_message(workdir: str | Path = ".", proc: str | Path = "/proc", **command) -> str | None:
    """One line saying the lock is stale, with the command that removes it (``command``: the
    arguments of :func:`unlock_command`); None unless the lock is known to be stale."""
    if lock_state(workdir, proc)[0] != "stale":
        return None
    jobs = submitted_jobs(workdir)
    cluster = f"; first wait for or cancel the cluster jobs it submitted ({', '.join(jobs)})" if jobs else ""
    return (
        f"the Snakemake lock in {Path(workdir).resolve()}/.snakemake/locks is stale: no Snakemake process runs "
        f"in this directory on {socket.gethostname()} (a killed run left it){cluster}; remove it with: "
        + unlock_command(workdir, **command)
    )


def lock_report(workdir: str | Path = ".", proc: str | Path = "/proc") -> tuple[bool, str]:
    """(whether the lock is stale, one line on the lock of ``workdir``), for ``infoplane doctor``."""
    state, pids = lock_state(workdir, proc)
    where, listed = Path(workdir).resolve(), ", ".join(map(str, pids))
    if state == "stale":
        return True, stale_lock_message(workdir, proc)
    return False, {
        "unlocked": f"no Snakemake lock in {where}",
        "running": f"{where} is locked by a running Snakemake (pid {listed}): leave the lock to it",
        "unknown": f"{where} is locked, and whether a Snakemake still runs there cannot be told"
        + (f" (pid {listed} run Snakemake in a directory that cannot be read)" if pids else " on this system")
        + f": check before {unlock_command(workdir)}",
    }[state]
