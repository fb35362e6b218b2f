"""Benchmark: infoplane's KSG beside bmi's and beside a plain float loop, against the CPU's peak.

Three implementations of the same estimate (KSG algorithm 1, k = 5, max-norm marginals, data
standardised), on the same correlated Gaussian data, timed side by side and interleaved:

- ``infoplane``: ``estimate("ksg", x, y, k=k, ci=False)``;
- ``float_loop``: :func:`float_loop_counts`, the counts written as plainly as possible (blocks of
  rows, the (rows, n, d) coordinate differences, ``amax``, ``kthvalue``), on the data infoplane
  prepares, so its counts must equal infoplane's exactly (and they are compared);
- ``bmi``: ``bmi.estimators.KSGEnsembleFirstEstimator(neighborhoods=(k,), metric_x="chebyshev")``
  of benchmark-mi 0.1.3 (bmi's default metric is euclidean; chebyshev is the same estimator as
  the other two), in its own interpreter (``bmi_python``), on the same data saved to .npy, timed
  inside that process after one warm-up call (import and first-call costs are not counted).
  bmi works in float64 with its own standardisation, so its estimate agrees to rounding only.

Throughput is pairs x dims per second: n^2 ordered pairs times dx + dy coordinates, the work of
the float loop (infoplane's screen computes half the pairs, so this is the rate of the problem,
not of the instructions). The peak (:func:`measure_peak`) is the best rate of one elementwise
max-abs-difference step (``out = max(out, |a - b|)``) on blocks that stay in cache, float32 and
int16, with all of torch's threads: what the unfused loops here could reach at best.
"""

from __future__ import annotations

import json
import math
import platform
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from ..estimators import estimate
from ..estimators.base import NATS_TO_BITS, cpu_generator
from ..estimators.knn import _prepare, ksg_counts, ksg_nats_from_counts

BMI_PYTHON = "/work/venvs/bmi/bin/python"
SIZES = (1000, 5000, 20000)
DIMS = (2, 10, 25, 100)  # per marginal: x and y have d coordinates each
QUICK_SIZES = (1000,)
LOOP_ELEMENTS = 1 << 22  # coordinate differences per block of the float loop

# Run by bmi's interpreter: argv = x.npy y.npy k repeats; prints {"seconds": [...], "mi_nats": ...}.
BMI_SCRIPT = """
import json, sys, time
import numpy as np
from bmi.estimators import KSGEnsembleFirstEstimator
x, y = np.load(sys.argv[1]), np.load(sys.argv[2])
k, repeats = int(sys.argv[3]), int(sys.argv[4])
est = KSGEnsembleFirstEstimator(neighborhoods=(k,), metric_x="chebyshev")
est.estimate(x[: 10 * k], y[: 10 * k])  # warm-up: first-call costs are not timed
seconds = []
for _ in range(repeats):
    start = time.perf_counter()
    mi = est.estimate(x, y)
    seconds.append(time.perf_counter() - start)
print(json.dumps({"seconds": seconds, "mi_nats": float(mi)}))
"""


def cpu_model() -> str:
    """The CPU's model name as lscpu or /proc/cpuinfo gives it, else platform's guess."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def correlated_gaussian(n: int, d: int, seed: int = 0, rho: float = 0.8) -> tuple[np.ndarray, np.ndarray]:
    """x, y: (n, d) float64 each, y_j = rho x_j + sqrt(1 - rho^2) noise, coordinate by coordinate."""
    g = np.random.default_rng(seed)
    x = g.standard_normal((n, d))
    y = rho * x + math.sqrt(1 - rho * rho) * g.standard_normal((n, d))
    return x, y


def float_loop_counts(x: torch.Tensor, y: torch.Tensor, k: int = 5) -> tuple[torch.Tensor, torch.Tensor]:
    """KSG algorithm 1 counts (n_x, n_y), (n,) int64, of prepared x (n, dx), y (n, dy), plainly.

    Blocks of rows; per block the (rows, n, d) absolute differences and their max over d (the
    max-norm), the point itself at +inf, the k-th smallest joint distance, and the strict counts.
    """
    n = x.shape[0]
    step = max(1, LOOP_ELEMENTS // (n * max(x.shape[1], y.shape[1])))
    n_x, n_y = [], []
    for start in range(0, n, step):
        rows = torch.arange(start, min(n, start + step))
        dx = (x[rows, None, :] - x[None, :, :]).abs().amax(dim=-1)
        dy = (y[rows, None, :] - y[None, :, :]).abs().amax(dim=-1)
        dx[torch.arange(len(rows)), rows] = float("inf")
        dy[torch.arange(len(rows)), rows] = float("inf")
        eps = torch.maximum(dx, dy).kthvalue(k, dim=1, keepdim=True).values
        n_x.append((dx < eps).sum(dim=1))
        n_y.append((dy < eps).sum(dim=1))
    return torch.cat(n_x), torch.cat(n_y)


def prepared(x: np.ndarray, y: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """x and y as ``estimate("ksg", ...)`` prepares them by default (standardised, float32)."""
    g = cpu_generator(0)
    return tuple(_prepare(torch.from_numpy(a), True, 0.0, g, "float32") for a in (x, y))


def measure_peak(repeats: int = 5, rows: int = 64, cols: int = 4096, dims: int = 64) -> dict[str, float]:
    """Pairs x dims per second of ``out = max(out, |a_j - b_j|)`` over ``dims`` coordinates on a
    (rows, cols) block that stays in cache, best of ``repeats``, for float32 and int16."""
    peak = {}
    for name, dtype in (("float32", torch.float32), ("int16", torch.int16)):
        c = (torch.randn(dims, cols) * 1000).to(dtype)
        out, buf = torch.empty(rows, cols, dtype=dtype), torch.empty(rows, cols, dtype=dtype)
        best = math.inf
        for _ in range(repeats + 1):  # the first is a warm-up
            start = time.perf_counter()
            torch.sub(c[0, :rows, None], c[0], out=out).abs_()
            for j in range(1, dims):
                torch.maximum(out, torch.sub(c[j, :rows, None], c[j], out=buf).abs_(), out=out)
            best = min(best, time.perf_counter() - start)
        peak[name] = rows * cols * dims / best
    return peak


def bmi_available(bmi_python: str | None) -> bool:
    return bool(bmi_python) and Path(bmi_python).is_file()


def bmi_run(bmi_python: str, x: np.ndarray, y: np.ndarray, k: int, repeats: int = 1) -> dict:
    """bmi's KSG in its own interpreter: {"seconds": [...], "mi_nats": float}."""
    with tempfile.TemporaryDirectory() as tmp:
        paths = [str(Path(tmp) / f"{name}.npy") for name in ("x", "y")]
        np.save(paths[0], x)
        np.save(paths[1], y)
        done = subprocess.run(
            [bmi_python, "-c", BMI_SCRIPT, *paths, str(k), str(repeats)],
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        raise RuntimeError(f"bmi ({bmi_python}) failed: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _timed(fn, *args, **kwargs) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def run(
    sizes=SIZES,
    dims=DIMS,
    repeats: int = 3,
    k: int = 5,
    quick: bool = False,
    bmi_python: str | None = BMI_PYTHON,
    seed: int = 0,
    log=None,
) -> pd.DataFrame:
    """One row per (n, d): seconds (median of ``repeats``, interleaved), MI in bits, throughput
    and its fraction of the float32 peak, for infoplane, the float loop and bmi.

    quick: n = 1000 only (QUICK_SIZES), for tests. bmi_python: bmi's interpreter; when it is
    missing (or None) the bmi columns are empty and ``note`` says why.
    """
    sizes = QUICK_SIZES if quick else tuple(sizes)
    has_bmi = bmi_available(bmi_python)
    peak = measure_peak()
    rows = []
    for n in sizes:
        for d in dims:
            x, y = correlated_gaussian(n, d, seed)
            xt, yt = torch.from_numpy(x), torch.from_numpy(y)  # float64, as bmi gets them
            xp, yp = prepared(x, y)
            seconds = {"infoplane": [], "float_loop": [], "bmi": []}
            mi = {}
            for _ in range(repeats):
                t, res = _timed(estimate, "ksg", xt, yt, k=k, ci=False)
                seconds["infoplane"].append(t)
                mi["infoplane"] = res.mi_bits
                t, loop = _timed(float_loop_counts, xp, yp, k)
                seconds["float_loop"].append(t)
                if has_bmi:
                    out = bmi_run(bmi_python, x, y, k)
                    seconds["bmi"].extend(out["seconds"])
                    mi["bmi"] = out["mi_nats"] / math.log(2)
            counts = ksg_counts(xp, yp, k=k)
            identical = all(torch.equal(a, b) for a, b in zip(counts, loop, strict=True))
            mi["float_loop"] = ksg_nats_from_counts(*loop, k) * NATS_TO_BITS
            work = n * n * 2 * d
            row = {"n": n, "dx": d, "dy": d, "k": k}
            for name, ts in seconds.items():
                s = float(np.median(ts)) if ts else math.nan
                row[f"{name}_seconds"] = s
                row[f"{name}_mi_bits"] = mi.get(name, math.nan)
                row[f"{name}_pair_dims_per_s"] = work / s
                row[f"{name}_fraction_of_peak"] = work / s / peak["float32"]
            row["bmi_over_infoplane"] = row["bmi_seconds"] / row["infoplane_seconds"]
            row["float_loop_over_infoplane"] = row["float_loop_seconds"] / row["infoplane_seconds"]
            row["counts_identical"] = identical
            row["repeats"] = repeats
            row["peak_float32_pair_dims_per_s"] = peak["float32"]
            row["peak_int16_pair_dims_per_s"] = peak["int16"]
            row["threads"] = torch.get_num_threads()
            row["cpu"] = cpu_model()
            row["note"] = "" if has_bmi else f"bmi not run: no interpreter at {bmi_python!r}"
            rows.append(row)
            if log is not None:
                log.info("n=%d d=%d+%d: %s", n, d, d, {key: row[key] for key in list(row)[4:8]})
    return pd.DataFrame(rows)


def main(argv=None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="results/benchmarks/ksg_speed.csv")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--dims", type=int, nargs="+", default=list(DIMS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--bmi-python", default=BMI_PYTHON)
    args = parser.parse_args(argv)
    table = run(args.sizes, args.dims, args.repeats, quick=args.quick, bmi_python=args.bmi_python)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out, index=False)
    cols = ["n", "dx", "infoplane_seconds", "bmi_seconds", "bmi_over_infoplane", "float_loop_seconds"]
    print(table[cols + ["infoplane_fraction_of_peak", "counts_identical"]].to_string(index=False))


if __name__ == "__main__":
    main()
