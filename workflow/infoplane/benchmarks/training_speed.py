"""Benchmark: time per network-epoch of the 12-10-7-5-4-3-2 network, one run alone against groups.

"alone" is :func:`infoplane.training.train` on one run (the solo path of the rule ``train``);
"group" trains G runs (seeds 0..G-1) as one stacked model (:mod:`infoplane.training.group`), the
path of a group job. Both on the 12-bit task with Adam and mini-batches of 512, as tishby2017,
with no capture epochs: the table times training, not writing stores (about 0.2 s per run and
flush either way, the same alone and in a group). A short untimed pass of each path first, so
that one-off costs (allocator, first calls) fall on neither.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from ..data import build_dataset
from ..models.mlp import MLP
from ..training.group import Member, _train_stacked
from ..training.train import TrainConfig, train

GROUP_SIZES = (1, 10, 50)


def _members(n: int, epochs: int, root: Path, device) -> list[Member]:
    members = []
    for seed in range(n):
        torch.manual_seed(seed)
        model = MLP(12, [10, 7, 5, 4, 3], 2, "tanh").to(device)
        cfg = TrainConfig(epochs=epochs, lr=4e-4, batch_size=512, seed=seed)
        members.append(Member(f"seed~{seed}", model, cfg, root / f"seed~{seed}"))
    return members


def run(n_epochs: int = 100, repeats: int = 2, group_sizes=GROUP_SIZES, devices=None) -> pd.DataFrame:
    """Seconds per network-epoch (best of ``repeats``) alone and for each group size, on CPU and CUDA if present."""
    ds = build_dataset("tishby12", seed=0)
    devices = devices or (["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"])
    rows = []
    for device in devices:
        x = torch.as_tensor(ds["x"].values, dtype=torch.float32, device=device)
        y = torch.as_tensor(ds["y"].values, dtype=torch.int64, device=device)
        is_train = torch.as_tensor(ds["is_train"].values, device=device)
        # (mode, runs, epochs, repeats, recorded): an untimed warm-up of each path, then the cases
        cases = [("alone", 1, 2, 1, False), ("group", 2, 2, 1, False), ("alone", 1, n_epochs, repeats, True)]
        cases += [("group", g, n_epochs, repeats, True) for g in group_sizes]
        for mode, size, epochs, n_repeats, recorded in cases:
            times = []
            for _ in range(n_repeats):
                with tempfile.TemporaryDirectory() as tmp:
                    members = _members(size, epochs, Path(tmp), device)
                    if device == "cuda":
                        torch.cuda.synchronize()
                    start = time.perf_counter()
                    if mode == "alone":
                        m = members[0]
                        train(m.model, x, y, is_train, m.cfg, [], m.work_dir)
                    else:
                        _train_stacked(members, x, y, is_train, [], Path(tmp) / "group", None)
                    if device == "cuda":
                        torch.cuda.synchronize()
                    times.append(time.perf_counter() - start)
            if not recorded:
                continue
            seconds = float(np.min(times))
            rows.append(
                {
                    "device": device,
                    "mode": mode,
                    "group_size": size,
                    "epochs": n_epochs,
                    "seconds": seconds,
                    "ms_per_network_epoch": 1000 * seconds / (size * n_epochs),
                    "threads": torch.get_num_threads(),
                }
            )
    table = pd.DataFrame(rows)
    alone = table[table["mode"] == "alone"].set_index("device")["ms_per_network_epoch"]
    table["speedup_vs_alone"] = table["device"].map(alone) / table["ms_per_network_epoch"]
    return table
