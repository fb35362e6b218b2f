"""Benchmark: the kernel-density (KDE) plane of one run at the default capture, against a direct form.

The direct form is the formula as written (Saxe et al.'s code, in torch): per epoch and layer, the
float64 pairwise squared distances and a logsumexp over all points, once for the whole layer and
once per class. :func:`infoplane.estimators.kde.kde_plane_nats` batches epochs, gets the log-kernel
from one product, exponentiates once for every class, works in float32, and can average the bound
over a random subset of query points (``n_query``). ``batched_float32_torch_blocks`` is the
float32 plane with the kernel blocks in torch, as on a GPU, instead of numpy's (the CPU default).
"""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd
import torch

from ..estimators import kde
from ..estimators.kde import kde_plane_nats
from .binning_speed import synthetic_run


def direct_plane_nats(t: torch.Tensor, labels: torch.Tensor, noise_variance: float = 0.1) -> torch.Tensor:
    """(E, 2) upper-bound I(X;T), I(T;Y) in nats, one epoch at a time, float64."""
    out = []
    for acts in t.to(torch.float64):

        def h(points):
            d2 = torch.cdist(points, points) ** 2
            return -(torch.logsumexp(-d2 / (2 * noise_variance), dim=1) - math.log(len(points))).mean()

        h_t = h(acts)
        h_t_y = sum((labels == c).double().mean() * h(acts[labels == c]) for c in labels.unique())
        out.append(torch.stack([h_t, h_t - h_t_y]))
    return torch.stack(out)


def run(n_epochs: int = 100, repeats: int = 3) -> pd.DataFrame:
    """Seconds for the KDE plane of one run (n_epochs captures x 6 layers x 4096 patterns)."""
    layers, labels = synthetic_run(n_epochs)
    torch_layers = [torch.from_numpy(a) for a in layers]
    y = torch.from_numpy(labels)
    variants = {
        "direct_float64": lambda: [direct_plane_nats(t, y) for t in torch_layers],
        "batched_float64": lambda: [kde_plane_nats(t, y, precision="float64") for t in torch_layers],
        "batched_float32": lambda: [kde_plane_nats(t, y) for t in torch_layers],
        "batched_float32_query512": lambda: [kde_plane_nats(t, y, n_query=512) for t in torch_layers],
        "batched_float32_torch_blocks": lambda: _with_torch_blocks(
            lambda: [kde_plane_nats(t, y) for t in torch_layers]
        ),
    }
    reference = np.stack([kde_plane_nats(t, y, precision="float64")["I_XT"].numpy() for t in torch_layers])
    rows = []
    for name, fn in variants.items():
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            result = fn()
            times.append(time.perf_counter() - start)
        if name == "direct_float64":
            i_xt = np.stack([r[:, 0].numpy() for r in result])
        else:
            i_xt = np.stack([r["I_XT"].numpy() for r in result])
        rows.append({
            "implementation": name,
            "epochs": n_epochs,
            "layers": len(layers),
            "samples": len(labels),
            "seconds_median": float(np.median(times)),
            "seconds_min": float(np.min(times)),
            "max_abs_diff_I_XT_bits": float(np.abs(i_xt - reference).max() / math.log(2)),
            "threads": torch.get_num_threads(),
            "device": "cpu",
        })  # fmt: skip
    table = pd.DataFrame(rows)
    table["speedup_vs_direct"] = table["seconds_median"].iloc[0] / table["seconds_median"]
    return table


def _with_torch_blocks(fn):
    """Run ``fn`` with the symmetric kernel blocks computed by torch (the GPU engine) on CPU."""
    numpy_engine = kde._class_sums_symmetric_numpy

    def torch_engine(left, right, cls, n_classes, block, budget):
        return kde._class_sums_symmetric(left, right, cls, n_classes, block, budget, engine="torch")

    kde._class_sums_symmetric_numpy = torch_engine
    try:
        return fn()
    finally:
        kde._class_sums_symmetric_numpy = numpy_engine
