"""The estimator speed benchmark: seconds per estimate over sample size n and dimension d.

Each torch estimator is timed without an interval (``ci=False``: one estimate), beside two
references: scikit-learn's ``mutual_info_regression`` (KSG algorithm 1, k=3, 1-d x only) and a
scipy ``cKDTree`` KSG (:func:`infoplane.benchmarks.reference.ckdtree_ksg_bits`). x and y both
have d dimensions (d + d in the joint space); data are correlated Gaussians.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import pandas as pd
import torch

from ..estimators import estimate, resolve_device
from ..tasks import GaussianTask
from .reference import ckdtree_ksg_bits

log = logging.getLogger(__name__)

DEFAULT_METHODS = {
    "ksg": {"method": "ksg", "k": 3},
    "ksg_blockwise": {"method": "ksg", "k": 3, "chunk_size": 104},  # the float path, for comparison
    "ksg_euclidean": {"method": "ksg", "k": 3, "metric": "euclidean"},
    "gaussian": {"method": "gaussian"},
    "renyi": {"method": "renyi", "alpha": 2.0},
}
REFERENCES = ("sklearn", "ckdtree")


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _time(fn, repeats: int) -> tuple[float, float]:
    """(best seconds over ``repeats`` calls, the last value)."""
    best, value = float("inf"), float("nan")
    for _ in range(repeats):
        start = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - start)
    return best, value


def speed_grid(
    methods: dict[str, dict] | None = None,
    sample_sizes=(1000, 5000),
    dims=(1, 25),
    references=REFERENCES,
    repeats: int = 2,
    device: str = "auto",
    seed: int = 0,
) -> pd.DataFrame:
    """Time every (method, n, d) and the references; one row each with the best of ``repeats`` calls.

    methods: name -> {"method": ..., **params}. The first call of each method is a warm-up and not
    counted. Columns: estimator, implementation, device, threads, n, dim_x, dim_y, seconds, mi_bits.
    """
    methods = DEFAULT_METHODS if methods is None else methods
    dev = resolve_device(device)
    threads = torch.get_num_threads()
    rows = []

    def row(name, impl, where, n, d, seconds, value):
        rows.append(dict(estimator=name, implementation=impl, device=where, threads=threads, n=int(n),
                         dim_x=int(d), dim_y=int(d), seconds=seconds, mi_bits=value))  # fmt: skip
        log.info("%s (%s, %s) n=%d d=%d+%d: %.4f s", name, impl, where, n, d, d, seconds)

    for d in dims:
        for n in sample_sizes:
            x, y = GaussianTask(int(d), int(d), mi_bits=1.0).sample(int(n), seed)
            xt = torch.as_tensor(x, device=dev)
            yt = torch.as_tensor(y, device=dev)
            for name, preset in methods.items():
                params = dict(preset)
                method = params.pop("method")

                def call(method=method, params=params, xt=xt, yt=yt):
                    v = estimate(method, xt, yt, device=dev, ci=False, seed=seed, **params).mi_bits
                    _sync(dev)
                    return v

                call()  # warm-up: allocator, kernels, first-touch
                secs, value = _time(call, repeats)
                row(name, "infoplane", str(dev.type), n, d, secs, value)
            if "ckdtree" in references:
                secs, value = _time(lambda x=x, y=y: ckdtree_ksg_bits(x, y, k=3), repeats)
                row("ksg", "scipy.cKDTree", "cpu", n, d, secs, value)
            if "sklearn" in references and d == 1:
                from sklearn.feature_selection import mutual_info_regression  # noqa: PLC0415

                def skl(x=x, y=y):
                    return float(
                        mutual_info_regression(x, y[:, 0], n_neighbors=3, random_state=seed)[0] / np.log(2)
                    )

                secs, value = _time(skl, repeats)
                row("ksg", "sklearn", "cpu", n, d, secs, value)
    return pd.DataFrame(rows)
