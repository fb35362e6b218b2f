"""A real single-node SLURM cluster on this machine, for tests and for trying the cluster profile.

    python tests/slurm_cluster.py start     # install if needed, start, wait until the node is idle
    python tests/slurm_cluster.py status    # what runs, and the SLURM_CONF to export
    python tests/slurm_cluster.py stop      # stop every daemon this helper started, by PID

From a test:

    cluster = SlurmCluster(state_dir)
    cluster.start()          # raises ClusterUnavailable (with the reason) where it cannot run
    subprocess.run([...], env=cluster.env)   # SLURM_CONF points at the generated config
    cluster.stop()

Nothing in /etc is written: slurm.conf and gres.conf are generated in the state directory and
every SLURM command (daemons with -f, clients and the jobs themselves through the SLURM_CONF
environment variable, which sbatch exports into every job) reads them from there. munged is the
one shared piece: it listens on the system socket /run/munge/munge.socket.2, because that is
where SLURM's auth/munge plugin and the munge clients look. A munged that already answers is
reused and left running; one this helper starts is stopped by the PID it recorded.

There is no accounting (no slurmdbd): jobs are followed with `squeue`. The Snakemake SLURM
executor calls `sacct` whenever that command exists, and without accounting storage that call
fails and the workflow waits forever; so the local profile sets `slurm-status-command: squeue`
(see `write_local_profile`) and MinJobAge stays at SLURM's default of 300 s, long enough for
the executor to see a finished job. Facts behind these choices: ../shared/SLURM.md.

The machine has no cgroups, hence proctrack/linuxproc and task/none. The node offers one fake
GPU for scheduling only (`Name=gpu Type=fake File=/dev/null`): a job that asks for `--gpus=1`
is scheduled and sees CUDA_VISIBLE_DEVICES=0, but there is no device, so it must fall back to CPU.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

DEFAULT_STATE_DIR = Path(tempfile.gettempdir()) / "infoplane-slurm"
CLUSTER_NAME = "infoplane"
PARTITION = "debug"
MUNGE_SOCKET = Path("/run/munge/munge.socket.2")
MUNGE_PIDFILE = Path("/run/munge/munged.pid")
REQUIRED_COMMANDS = ("munged", "munge", "unmunge", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo")


class ClusterUnavailable(RuntimeError):
    """This machine cannot run a local SLURM cluster; the message says why (tests skip with it)."""


class ClusterError(RuntimeError):
    """The cluster was startable but did not come up; the message carries the daemons' log tails."""


def _which(cmd: str) -> str | None:
    # The daemons live in /usr/sbin, which a non-login PATH may lack.
    return shutil.which(cmd) or shutil.which(cmd, path="/usr/sbin:/usr/bin:/sbin:/bin")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pid_alive(pid: int, name: str) -> bool:
    """True if `pid` runs and is the program `name` (guards against a recycled PID)."""
    try:
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return False
    return comm == name[:15]


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def ensure_installed() -> None:
    """Install slurm-wlm and munge with apt if any command is missing; raise ClusterUnavailable if we cannot."""
    missing = [c for c in REQUIRED_COMMANDS if _which(c) is None]
    if not missing:
        return
    if os.geteuid() != 0:
        raise ClusterUnavailable(f"SLURM/munge not installed ({', '.join(missing)} missing) and not root to install")
    apt = shutil.which("apt-get")
    if apt is None:
        raise ClusterUnavailable(f"SLURM/munge not installed ({', '.join(missing)} missing) and no apt-get")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in ([apt, "update", "-qq"], [apt, "install", "-y", "-qq", "slurm-wlm", "munge"]):
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            raise ClusterUnavailable(
                f"`{' '.join(cmd)}` failed (exit {proc.returncode}): {(proc.stdout + proc.stderr)[-800:]}"
            )
    missing = [c for c in REQUIRED_COMMANDS if _which(c) is None]
    if missing:
        raise ClusterUnavailable(f"installed slurm-wlm and munge but still missing: {', '.join(missing)}")


def write_local_profile(profile_src: Path | str, dest: Path | str) -> Path:
    """Write a copy of the project's SLURM profile adapted to this one-node cluster; return its directory.

    Only what a laptop-sized fake cluster cannot honour changes: the partition is `debug`, there
    is no account (`slurm-no-account`), job state comes from `squeue` (no accounting, see the module
    docstring), and the SLURM logs of successful jobs are kept so a test can count them. Everything
    else (resources, GPU requests, groups, job limits) is the project's profile as users get it.
    """
    src = Path(profile_src)
    src_file = next((src / n for n in ("profile.yaml", "config.yaml") if (src / n).exists()), None)
    if src_file is None:
        raise FileNotFoundError(f"no profile.yaml or config.yaml in {src}")
    profile = yaml.safe_load(src_file.read_text()) or {}
    resources = profile.get("default-resources") or {}
    if isinstance(resources, list):  # the `- key=value` form
        resources = dict(item.split("=", 1) for item in resources)
    resources.pop("slurm_account", None)
    resources["slurm_partition"] = PARTITION
    profile["default-resources"] = resources
    profile["slurm-no-account"] = True
    profile["slurm-status-command"] = "squeue"
    profile["slurm-keep-successful-logs"] = True
    # Seconds, not the minute a real cluster needs before its first status check.
    profile["slurm-init-seconds-before-status-checks"] = 5
    out = Path(dest)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.yaml").write_text(
        "# Generated by tests/slurm_cluster.py from " + str(src_file) + " for the local one-node cluster.\n"
        + yaml.safe_dump(profile, sort_keys=False)
    )
    return out


class SlurmCluster:
    """slurmctld + slurmd (+ munged if none runs) with their config, spool, logs and PIDs under `state_dir`."""

    def __init__(self, state_dir: Path | str = DEFAULT_STATE_DIR):
        self.state_dir = Path(state_dir)
        self.conf = self.state_dir / "slurm.conf"
        self.log_dir = self.state_dir / "log"
        self.munged_pidfile = self.state_dir / "munged.pid"  # present only if we started munged
        self.ctld_pidfile = self.state_dir / "slurmctld.pid"
        self.slurmd_pidfile = self.state_dir / "slurmd.pid"

    # -- what a caller needs -------------------------------------------------------------------
    @property
    def env(self) -> dict[str, str]:
        """os.environ plus SLURM_CONF (and /usr/sbin on PATH): pass to every SLURM-using subprocess."""
        path = os.environ.get("PATH", "")
        if "/usr/sbin" not in path.split(":"):
            path = path + ":/usr/sbin"
        return dict(os.environ, SLURM_CONF=str(self.conf), PATH=path)

    def run(self, *cmd: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(cmd, env=self.env, capture_output=True, text=True, check=check, timeout=timeout)

    # -- start ---------------------------------------------------------------------------------
    def start(self, timeout: float = 90) -> SlurmCluster:
        """Install if needed, write the config, start the daemons, return once the node is idle."""
        if os.geteuid() != 0:
            raise ClusterUnavailable("a local SLURM needs root (slurmd runs as root); not root")
        ensure_installed()
        if self.running():
            return self
        self.stop()  # whatever is left of an earlier start in this directory
        for old in (self.state_dir / "ctld", self.state_dir / "d", self.log_dir):  # fresh state, same place
            shutil.rmtree(old, ignore_errors=True)
        for d in (self.state_dir, self.log_dir, self.state_dir / "ctld", self.state_dir / "d"):
            d.mkdir(parents=True, exist_ok=True)
        self._start_munge()
        self._write_config()
        self._spawn(["slurmctld", "-f", str(self.conf)], "slurmctld", self.ctld_pidfile)
        self._spawn(["slurmd", "-f", str(self.conf), "-N", self.node], "slurmd", self.slurmd_pidfile)
        self._wait_idle(timeout)
        return self

    @property
    def node(self) -> str:
        return socket.gethostname().split(".")[0]

    def _start_munge(self) -> None:
        if self._munge_works():
            return  # a munged already answers (the system's, or a previous start's): share it
        for d in ("/run/munge", "/var/log/munge", "/var/lib/munge"):
            Path(d).mkdir(parents=True, exist_ok=True)
            shutil.chown(d, "munge", "munge")
        os.chmod("/run/munge", 0o755)
        key = Path("/etc/munge/munge.key")
        if not key.exists():
            subprocess.run(["runuser", "-u", "munge", "--", _which("mungekey"), "--create"], check=True)
        proc = subprocess.run(
            ["runuser", "-u", "munge", "--", _which("munged"), "--force"], capture_output=True, text=True
        )
        if proc.returncode != 0:
            raise ClusterError(f"munged failed to start: {proc.stderr.strip()}\n{_tail(Path('/var/log/munge/munged.log'))}")
        pid = self._wait_pidfile(MUNGE_PIDFILE, "munged", 15)
        self.munged_pidfile.write_text(f"{pid}\n")
        for _ in range(50):
            if self._munge_works():
                return
            time.sleep(0.1)
        raise ClusterError(f"munged started (pid {pid}) but `munge -n | unmunge` fails")

    @staticmethod
    def _munge_works() -> bool:
        if not MUNGE_SOCKET.exists():
            return False
        try:
            cred = subprocess.run([_which("munge"), "-n"], capture_output=True, timeout=10)
            out = subprocess.run([_which("unmunge")], input=cred.stdout, capture_output=True, timeout=10)
        except (subprocess.TimeoutExpired, OSError, TypeError):
            return False
        return out.returncode == 0 and b"Success" in out.stdout

    def _write_config(self) -> None:
        # The node's real shape (CPUs, sockets, cores, threads, memory) as slurmd sees it, so it is not drained.
        shape = subprocess.run([_which("slurmd"), "-C"], capture_output=True, text=True, check=True).stdout
        fields = dict(re.findall(r"(\w+)=(\S+)", shape.splitlines()[0]))
        real_mb = int(fields.get("RealMemory", "4096"))
        hw = " ".join(
            f"{k}={fields[k]}"
            for k in ("CPUs", "Boards", "SocketsPerBoard", "CoresPerSocket", "ThreadsPerCore")
            if k in fields
        )
        s = self.state_dir
        self.conf.write_text(
            f"""# Generated by tests/slurm_cluster.py; removed by `stop`.
ClusterName={CLUSTER_NAME}
SlurmctldHost={self.node}(127.0.0.1)
SlurmctldPort={_free_port()}
SlurmdPort={_free_port()}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation={s}/ctld
SlurmdSpoolDir={s}/d
SlurmctldPidFile={self.ctld_pidfile}
SlurmdPidFile={self.slurmd_pidfile}
SlurmctldLogFile={self.log_dir}/slurmctld.log
SlurmdLogFile={self.log_dir}/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# no cgroups on this machine
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
ReturnToService=2
MpiDefault=none
# no accounting: jobs are followed with squeue; keep finished jobs visible for 300 s
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MinJobAge=300
SlurmdTimeout=60
InactiveLimit=0
KillWait=10
GresTypes=gpu
NodeName={self.node} NodeAddr=127.0.0.1 {hw} RealMemory={int(real_mb * 0.8)} Gres=gpu:fake:1 State=UNKNOWN
DefMemPerCPU=1000
PartitionName={PARTITION} Nodes=ALL Default=YES MaxTime=INFINITE State=UP
"""
        )
        # A GPU for scheduling only: without File= the node goes INVALID.
        (s / "gres.conf").write_text(f"NodeName={self.node} Name=gpu Type=fake File=/dev/null\n")

    def _spawn(self, cmd: list[str], name: str, pidfile: Path) -> int:
        proc = subprocess.run([_which(cmd[0]), *cmd[1:]], env=self.env, capture_output=True, text=True)
        if proc.returncode != 0:
            raise ClusterError(f"{name} failed to start: {proc.stderr.strip()}\n{_tail(self.log_dir / (name + '.log'))}")
        return self._wait_pidfile(pidfile, name, 30)

    def _wait_pidfile(self, pidfile: Path, name: str, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid = _read_pid(pidfile)
            if pid and _pid_alive(pid, name):
                return pid
            time.sleep(0.2)
        raise ClusterError(f"{name} wrote no live PID to {pidfile}\n{_tail(self.log_dir / (name + '.log'))}")

    def node_state(self) -> str:
        proc = self.run("sinfo", "-h", "-N", "-n", self.node, "-o", "%t", check=False, timeout=20)
        return proc.stdout.strip() if proc.returncode == 0 else f"sinfo failed: {proc.stderr.strip()}"

    def _wait_idle(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        state = ""
        while time.monotonic() < deadline:
            state = self.node_state()
            if state == "idle":
                return
            time.sleep(1)
        raise ClusterError(
            f"node {self.node} is {state!r}, not idle, after {timeout:.0f} s\n"
            f"--- slurmctld.log\n{_tail(self.log_dir / 'slurmctld.log')}\n"
            f"--- slurmd.log\n{_tail(self.log_dir / 'slurmd.log')}"
        )

    # -- status and stop -----------------------------------------------------------------------
    def pids(self) -> dict[str, int | None]:
        """PID of each daemon this helper started in `state_dir`, or None where it does not run."""
        out = {}
        for name, pidfile in (
            ("slurmd", self.slurmd_pidfile),
            ("slurmctld", self.ctld_pidfile),
            ("munged", self.munged_pidfile),
        ):
            pid = _read_pid(pidfile)
            out[name] = pid if pid and _pid_alive(pid, name) else None
        return out

    def running(self) -> bool:
        p = self.pids()
        return bool(p["slurmctld"] and p["slurmd"] and self.conf.exists() and self.node_state() == "idle")

    def stop(self, timeout: float = 30) -> list[str]:
        """Stop every daemon started from `state_dir`, by the PIDs in its pid files; return what was stopped."""
        stopped = []
        for name, pid in self.pids().items():  # slurmd, slurmctld, then munged
            if pid is None:
                continue
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while _pid_alive(pid, name) and time.monotonic() < deadline:
                time.sleep(0.2)
            if _pid_alive(pid, name):
                os.kill(pid, signal.SIGKILL)
            stopped.append(f"{name} (pid {pid})")
        self.munged_pidfile.unlink(missing_ok=True)
        return stopped

    def status(self) -> str:
        p = self.pids()
        lines = [f"state dir: {self.state_dir}"]
        lines += [f"{name}: {'pid ' + str(pid) if pid else 'not running (from here)'}" for name, pid in p.items()]
        if p["slurmctld"]:
            lines.append(f"node {self.node}: {self.node_state()}")
            lines.append(f"export SLURM_CONF={self.conf}")
        return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["start", "stop", "status", "profile"])
    parser.add_argument("--state-dir", default=str(DEFAULT_STATE_DIR), help="config, spool, logs, pid files")
    parser.add_argument(
        "--profile-dir",
        default=str(DEFAULT_STATE_DIR / "profile"),
        help="where `profile` writes the local copy of workflow/profiles/slurm",
    )
    args = parser.parse_args(argv)
    cluster = SlurmCluster(args.state_dir)
    try:
        if args.action == "start":
            cluster.start()
            print(cluster.status())
            print(f"\nUse it:  export SLURM_CONF={cluster.conf}; sbatch --wrap hostname")
            print(f"Profile: python {sys.argv[0]} profile   # writes {args.profile_dir}")
        elif args.action == "stop":
            stopped = cluster.stop()
            print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
        elif args.action == "profile":
            repo = Path(__file__).resolve().parents[1]
            out = write_local_profile(repo / "workflow" / "profiles" / "slurm", args.profile_dir)
            print(f"wrote {out}/config.yaml; run: snakemake --workflow-profile {out} --configfile .test/config.yaml")
        else:
            print(cluster.status())
    except ClusterUnavailable as e:
        print(f"cannot run a local SLURM here: {e}", file=sys.stderr)
        return 2
    except ClusterError as e:
        print(f"SLURM did not come up: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
