"""Peer comparison: latentmi (Gowri et al. 2024) on the known-MI manifold tasks, written to a CSV we ship.

Gowri, Lun, Klein & Yin (2024), "Approximating mutual information of high-dimensional variables
using learned representations" (NeurIPS; PyPI ``latentmi``): paired autoencoders with a
cross-predictive loss, then KSG on the held-out half's codes. This script runs its default
estimator, ``latentmi.lmi.estimate(x, y)`` with every default (8 latent dimensions, validation
split 0.5, 300 epochs at most, patience 30, lr 1e-4, batch 512), and records the mean of the
pointwise estimates it returns (NaN for the training half), in bits, as its paper does.

It is a plain script, never imported by the library: run it with the peer's own environment, e.g.

    python3 -m venv /work/venvs/latentmi && /work/venvs/latentmi/bin/pip install torch==2.13.0 latentmi==0.1.3
    /work/venvs/latentmi/bin/python workflow/infoplane/benchmarks/latentmi_peer.py --seeds 0 1 2 --threads 1

It imports infoplane's tasks through sys.path (``workflow/`` is put first), writes one row per
(task, seed) as soon as it is done, and skips rows already in the output, so a stopped run resumes.
Columns: task, seed, n, truth_bits, latentmi_bits, seconds (wall), cpu_seconds (this process's CPU time:
steadier than wall time on a shared machine), epochs (run before early stopping or the limit),
latentmi_version, threads, device.
``seed`` seeds the task's sample and latentmi's global numpy and torch generators (its split,
initialisation, batch order and dropout).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import math
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parents[2]))  # workflow/: makes `infoplane` importable without installing it

DEFAULT_OUT = HERE.parent / "data" / "latentmi_manifold.csv"
COLUMNS = [
    "task", "seed", "n", "truth_bits", "latentmi_bits", "seconds", "cpu_seconds", "epochs", "latentmi_version",
    "threads", "device",
]  # fmt: skip


def run_one(task, n: int, seed: int, device: str) -> tuple[float, float, float, int]:
    """(latentmi's estimate in bits, wall seconds, CPU seconds of this process, epochs run) on task.sample(n, seed)."""
    import numpy as np
    import torch
    from latentmi import lmi

    x, y = task.sample(n, seed)
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    np.random.seed(seed)
    torch.manual_seed(seed)
    start, cpu = time.perf_counter(), time.process_time()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):  # latentmi prints a progress line every epoch
        pmis, _, _ = lmi.estimate(x, y, device=device)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    printed = out.getvalue().count("\repoch")  # a line for every epoch but the one that stops training early
    epochs = printed + 1 if printed < 300 else printed
    return float(np.nanmean(pmis)), seconds, cpu, epochs


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--tasks", nargs="*", default=None, help="task names (default: every manifold task)")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    p.add_argument("--device", default="cpu")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = p.parse_args(argv)

    from importlib.metadata import version

    import torch

    from infoplane.tasks.manifold import manifold_tasks

    torch.set_num_threads(args.threads)
    lmi_version = version("latentmi")
    tasks = manifold_tasks()
    names = args.tasks or list(tasks)
    unknown = sorted(set(names) - set(tasks))
    if unknown:
        p.error(f"unknown tasks {unknown}; known: {sorted(tasks)}")
    done = set()
    if args.out.exists():
        with args.out.open() as f:
            done = {(r["task"], int(r["seed"])) for r in csv.DictReader(f)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    new_file = not args.out.exists()
    with args.out.open("a", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        if new_file:
            w.writeheader()
        for seed in args.seeds:
            for name in names:
                if (name, seed) in done:
                    continue
                task, n = tasks[name]
                mi, seconds, cpu, epochs = run_one(task, n, seed, args.device)
                row = {"task": name, "seed": seed, "n": n, "truth_bits": f"{task.mi_bits:g}",
                       "latentmi_bits": f"{mi:.4f}" if math.isfinite(mi) else "nan", "seconds": f"{seconds:.1f}",
                       "cpu_seconds": f"{cpu:.1f}", "epochs": epochs,
                       "latentmi_version": lmi_version, "threads": args.threads, "device": args.device}  # fmt: skip
                w.writerow(row)
                f.flush()
                print(f"{name} seed {seed}: truth {task.mi_bits:g}, latentmi {mi:.3f} bits, {seconds:.0f} s",
                      file=sys.stderr, flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sys.exit(main())
