"""The GPU check: every estimator on CPU and on CUDA on the same data, and the GPU paths timed.

One prepared script for whoever has a CUDA machine (meant to take under 10 minutes; its CPU half took
17 s on one thread of a 2-core machine, ``--quick`` 4 s):

    python -m infoplane.benchmarks.gpu_check --out results/benchmarks/gpu_check.csv [--quick]

It writes one tidy table (:data:`COLUMNS`), one row per (check, estimator or task, device):

- ``estimator``: each registered estimator through ``estimate(name, x, y, ci=False, device=...)``
  on CPU, then on CUDA; the CUDA row's ``reference_value`` is the CPU value, with the
  ``tolerance`` it must meet and ``passed``. Every registered estimator takes its device through
  :func:`infoplane.estimators.estimate` (none of the functions has a ``device`` of its own: each
  computes where its input tensors are), so each is compared; one that takes a device of its
  own, or none at all, gets a row saying so. Inputs: n pairs of ``GaussianTask(2, 2, 1.0)``, or
  for the methods that read y as class labels (:data:`LABELLED`) x with the labels 1[y_0 > 0];
  ``truth_bits`` is the closed-form I(X;Y) of that input. ``seconds``: one call, the first of
  that estimator on that device (on CUDA it includes one-off kernel loads).
- ``kde_time``, ``ksg_time``: the KDE upper-bound plane with every pattern a query point
  (a 4096 x 10 tanh layer, 2 classes) and KSG at n = 5000, 25 + 25 dimensions, timed on each
  device (best of ``repeats`` after one untimed call) and compared like the estimators.
- ``training_time``: ms per network-epoch of a group of 50 Tishby networks and of one alone,
  from :func:`infoplane.benchmarks.training_speed.run`.

Without CUDA, the CUDA rows have empty values and the note ``skipped: torch.cuda.is_available() is
False``. :func:`main` exits 1 when any comparison fails (or errs), 0 otherwise.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import logging
import math
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from ..estimators import ESTIMATORS, estimate
from ..estimators.kde import kde_plane_nats
from ..tasks import GaussianTask
from . import training_speed
from .binning_speed import synthetic_run
from .speed import _sync

log = logging.getLogger(__name__)

COLUMNS = ["check", "estimator_or_task", "device", "unit", "value", "reference_value", "abs_diff", "tolerance",
           "passed", "seconds", "truth_bits", "threads", "note"]  # fmt: skip
SKIPPED = "skipped: torch.cuda.is_available() is False"
NATS_TO_BITS = 1.0 / math.log(2.0)


@dataclasses.dataclass(frozen=True)
class Sizes:
    n: int  # pairs for the estimator comparisons
    critic_steps: int  # training steps of the variational critics
    kde_n: int  # patterns of the timed KDE layer (10 units)
    ksg_n: int  # points of the timed KSG
    ksg_dim: int  # dimensions of x and of y there
    networks: int  # networks of the timed group
    epochs: int  # epochs of the timed training
    repeats: int  # timed calls (best of), after one untimed call


FULL = Sizes(n=1000, critic_steps=200, kde_n=4096, ksg_n=5000, ksg_dim=25, networks=50, epochs=20, repeats=3)
QUICK = Sizes(n=400, critic_steps=30, kde_n=512, ksg_n=500, ksg_dim=5, networks=5, epochs=2, repeats=1)

# Methods that read y as class labels: the Gaussian pair's y would be the wrong kind of input.
LABELLED = {
    "mixed_ksg": "needs integer labels as y",
    "kde": "x is a layer and y its labels: I(T;Y) of T = x + noise",
    "noise_injected": "x is a layer and y its labels: I(X;T) of T = x + noise",
    "stochastic": "x is an encoder's [loc | scale] and y the labels: I(X;T|Y)",
}
TASK = GaussianTask(2, 2, 1.0)
# Methods whose work runs on CPU whatever the device: their CUDA row checks the round trip only.
CPU_COMPUTED = {"tcopula": "fits on CPU (numpy/scipy) whatever the device"}
# Measures that are not Shannon MI (infoplane.measures): no closed-form truth in bits to compare with.
NOT_SHANNON = {"dsmi": "diffusion spectral MI, not Shannon MI", "cs_qmi": "Cauchy-Schwarz QMI, not Shannon MI"}

# Estimators that train a network although their interval is not over seeds (latent_ksg: an autoencoder).
TRAINED = {"latent_ksg"}
# (absolute bits, relative, why). The tolerance is max(absolute, relative x |CPU value|).
FLOAT64 = (1e-4, 1e-5, "float64 throughout: CUDA and CPU kernels differ only in summation order")
FLOAT32 = (1e-3, 0.0, "float32 distances or bin edges: a kNN count or a bin can move with the last bit "
           "(one neighbour count at n=1000 moves KSG by about 1e-4 bits)")  # fmt: skip
CRITIC = (0.05, 0.0, "a float32 critic trained with the same seed, split and batches: CUDA kernels are not "
          "bit-identical and training amplifies rounding (x moved by 1e-6 moved the CPU result by <= 0.003 "
          "bits; another seed moves it by up to 0.14)")  # fmt: skip


def compare(value: float, reference: float, atol: float, rtol: float = 0.0) -> tuple[float, float, bool]:
    """(|value - reference|, the tolerance max(atol, rtol x |reference|), whether the difference is within it).

    A non-finite value or reference fails.
    """
    tol = max(float(atol), float(rtol) * abs(float(reference))) if math.isfinite(reference) else float(atol)
    diff = abs(float(value) - float(reference))
    return diff, tol, bool(math.isfinite(diff) and diff <= tol)


def tolerance_for(name: str) -> tuple[float, float, str]:
    """The CPU-vs-CUDA tolerance of a registered estimator (see :data:`FLOAT64`, :data:`FLOAT32`, :data:`CRITIC`)."""
    spec = ESTIMATORS[name]
    if spec.ci == "seeds" or name in TRAINED:
        return CRITIC
    precision = inspect.signature(spec.fn).parameters.get("precision")
    if name in ("binning", "auto") or (precision is not None and precision.default == "float32"):
        return FLOAT32
    return FLOAT64


def label_truth_bits(task: GaussianTask = TASK) -> float:
    """I(X; 1[Y_0 > 0]) in bits: Y_0 = rho u + sqrt(1 - rho^2) e with u a unit-variance function of X.

    Holds when every coordinate of y interacts (then y's rotation keeps u of unit variance):
    I = H(L) - E_u[H_b(Phi(rho u / sqrt(1 - rho^2)))] = 1 - E_u[...], by Gauss-Hermite quadrature.
    """
    from scipy import special

    if task.pairs != task.dim_y:
        raise ValueError("label_truth_bits needs every coordinate of y to interact (n_interacting = dim_y)")
    nodes, weights = np.polynomial.hermite_e.hermegauss(120)
    p = special.ndtr(task.rho * nodes / math.sqrt(1.0 - task.rho**2))
    with np.errstate(divide="ignore", invalid="ignore"):
        hb = -np.nan_to_num(p * np.log2(p)) - np.nan_to_num((1 - p) * np.log2(1 - p))
    return float(1.0 - (weights * hb).sum() / weights.sum())


def _inputs(name: str, n: int, seed: int):
    """(x, y, truth_bits or None, note) for one estimator."""
    x, y = TASK.sample(n, seed)
    if name not in LABELLED:
        extra = f" ({CPU_COMPUTED.get(name) or NOT_SHANNON[name]})" if name in CPU_COMPUTED | NOT_SHANNON else ""
        return x, y, (None if name in NOT_SHANNON else TASK.mi_bits), f"GaussianTask(2, 2, 1.0){extra}"
    labels = (y[:, 0] > 0).astype(np.int64)
    note = f"x of GaussianTask(2, 2, 1.0), y = 1[y_0 > 0] ({LABELLED[name]})"
    if name == "stochastic":
        return np.concatenate([x, np.full_like(x, 0.3)], axis=1), labels, None, note
    return x, labels, (label_truth_bits() if name == "mixed_ksg" else None), note


def _row(check, what, device, **fields) -> dict:
    return {**dict.fromkeys(COLUMNS), "check": check, "estimator_or_task": what, "device": device,
            "threads": torch.get_num_threads(), **fields}  # fmt: skip


def _timed(fn, device: str, warmup: bool = False, repeats: int = 1) -> tuple[float, float]:
    """(best seconds of ``repeats`` calls of ``fn`` after an untimed one when ``warmup``, its last float value)."""
    if warmup:
        fn()
    best, value = math.inf, math.nan
    for _ in range(repeats):
        _sync(torch.device(device))
        start = time.perf_counter()
        value = float(fn())
        _sync(torch.device(device))
        best = min(best, time.perf_counter() - start)
    return best, value


def _compared(check, what, device, unit, run, reference, atol, rtol, why, note="", **fields) -> dict:
    """A row of ``device`` for ``run() -> (seconds, value)``, compared with the CPU row ``reference``
    (None: this is the reference; ``note`` says what the input was)."""
    try:
        seconds, value = run()
    except Exception as err:  # an estimator that fails on the device is a result of the check
        return _row(check, what, device, unit=unit, passed=False, note=f"error: {type(err).__name__}: {err}", **fields)
    if reference is None:
        return _row(check, what, device, unit=unit, value=value, seconds=seconds, note=note or None, **fields)
    if reference["value"] is None:
        return _row(check, what, device, unit=unit, value=value, seconds=seconds, passed=False,
                    note="no CPU value to compare with", **fields)  # fmt: skip
    diff, tol, ok = compare(value, reference["value"], atol, rtol)
    note = f"{note}; tolerance: {why}" if note else f"tolerance: {why}"
    if seconds > 0:
        note += f"; cpu/{device} seconds: {reference['seconds'] / seconds:.3g}x"
    return _row(check, what, device, unit=unit, value=value, reference_value=reference["value"], abs_diff=diff,
                tolerance=tol, passed=ok, seconds=seconds, note=note, **fields)  # fmt: skip


def _pairs(check, what, unit, run, devices, atol, rtol, why, note="", **fields) -> list[dict]:
    """The CPU row and the accelerator's (compared, or skipped) for ``run(device) -> (seconds, value)``."""
    cpu = _compared(check, what, "cpu", unit, lambda: run("cpu"), None, atol, rtol, why, note, **fields)
    rows = [cpu]
    for device in devices:
        if device is None:
            rows.append(_row(check, what, "cuda", unit=unit, note=SKIPPED, **fields))
        else:
            run_there = lambda d=device: run(d)  # noqa: E731
            rows.append(_compared(check, what, device, unit, run_there, cpu, atol, rtol, why, note, **fields))
    log.info("%s %s: %s", check, what, [(r["device"], r["value"], r["passed"]) for r in rows])
    return rows


def estimator_rows(sizes: Sizes, seed: int, devices) -> list[dict]:
    """Every registered estimator on CPU and on each of ``devices`` (None: skipped), on the same data."""
    rows = []
    public = inspect.signature(estimate).parameters
    for name, spec in ESTIMATORS.items():
        own = inspect.signature(spec.fn).parameters
        if "device" in own or "device" not in public:  # estimate() would keep the device to itself
            rows.append(_row("estimator", name, "cpu", note="cpu only: estimate() does not pass a device to it"))
            continue
        x, y, truth, note = _inputs(name, sizes.n, seed)
        params = {"steps": sizes.critic_steps} if spec.ci == "seeds" else {}
        atol, rtol, why = tolerance_for(name)

        def run(device, name=name, x=x, y=y, params=params):
            return _timed(lambda: estimate(name, x, y, ci=False, seed=seed, device=device, **params).mi_bits, device)

        rows += _pairs("estimator", name, "bits", run, devices, atol, rtol, why, note, truth_bits=truth)
    return rows


def timing_rows(sizes: Sizes, seed: int, devices) -> list[dict]:
    """The KDE plane, KSG and group training timed on CPU and on each of ``devices`` (None: skipped)."""
    rows = []
    layers, labels = synthetic_run(1, widths=(10,), n_samples=sizes.kde_n, seed=seed)
    what = f"kde upper bound, all {sizes.kde_n} points queried, {sizes.kde_n} x 10 layer, 2 classes"
    for q in ("I_XT", "I_TY"):

        def kde(device, q=q):
            t, y = torch.from_numpy(layers[0]).to(device), torch.from_numpy(labels).to(device)
            return _timed(lambda: kde_plane_nats(t, y, bound="upper")[q][0] * NATS_TO_BITS, device, True, sizes.repeats)

        note = f"synthetic_run tanh layer, float32 plane; seconds: best of {sizes.repeats} after one untimed call"
        rows += _pairs("kde_time", f"{what}: {q}", "bits", kde, devices, *FLOAT32, note=note)
    d = sizes.ksg_dim
    x, y = GaussianTask(d, d, 1.0).sample(sizes.ksg_n, seed)

    def ksg(device):
        xt, yt = torch.as_tensor(x, device=device), torch.as_tensor(y, device=device)
        return _timed(lambda: estimate("ksg", xt, yt, ci=False, seed=seed, device=device).mi_bits, device, True,
                      sizes.repeats)  # fmt: skip

    note = f"GaussianTask({d}, {d}, 1.0), k=3; seconds: best of {sizes.repeats} after one untimed call"
    rows += _pairs("ksg_time", f"ksg, n={sizes.ksg_n}, {d}+{d} dimensions", "bits", ksg, devices, *FLOAT32,
                   note=note, truth_bits=1.0)  # fmt: skip
    for device in ["cpu", *devices]:
        rows += _training_rows(sizes, device)
    return rows


def _training_rows(sizes: Sizes, device: str | None) -> list[dict]:
    what = {"alone": "one Tishby network alone", "group": f"group of {sizes.networks} Tishby networks"}
    if device is None:
        return [_row("training_time", w, "cuda", unit="ms_per_network_epoch", note=SKIPPED) for w in what.values()]
    try:
        table = training_speed.run(n_epochs=sizes.epochs, repeats=sizes.repeats, group_sizes=(sizes.networks,),
                                   devices=[device])  # fmt: skip
    except Exception as err:
        note = f"error: {type(err).__name__}: {err}"
        return [_row("training_time", w, device, unit="ms_per_network_epoch", note=note) for w in what.values()]
    rows = []
    for r in table.itertuples():
        note = f"{sizes.epochs} epochs, best of {sizes.repeats}; speedup vs alone: {r.speedup_vs_alone:.3g}x"
        rows.append(_row("training_time", what[r.mode], device, unit="ms_per_network_epoch",
                         value=r.ms_per_network_epoch, seconds=r.seconds, note=note))  # fmt: skip
    log.info("training on %s:\n%s", device, table.to_string())
    return rows


def environment_rows(devices) -> list[dict]:
    rows = [_row("environment", f"torch {torch.__version__}", "cpu", note=platform.processor() or platform.machine())]
    for device in devices:
        if device is None:
            rows.append(_row("environment", f"torch {torch.__version__}", "cuda", note=SKIPPED))
        elif torch.device(device).type == "cuda":
            name = torch.cuda.get_device_name(torch.device(device))
            rows.append(_row("environment", f"torch {torch.__version__}, CUDA {torch.version.cuda}", device, note=name))
    return rows


def failures(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of comparisons that failed or erred (``passed`` is False)."""
    return table[table["passed"].map(lambda v: v is False or v == "False")]


def run_gpu_check(out_csv, quick: bool = False, seed: int = 0, device: str = "cuda") -> pd.DataFrame:
    """Run the check, write its table to ``out_csv`` and return it (columns :data:`COLUMNS`).

    quick: the small sizes of :data:`QUICK` (seconds on CPU) instead of :data:`FULL`.
    device: the accelerator compared with CPU; its rows are skipped when it is ``cuda`` and
    ``torch.cuda.is_available()`` is False (``"cpu"`` compares CPU with itself, for tests).
    """
    sizes = QUICK if quick else FULL
    devices = [device]
    if torch.device(device).type == "cuda" and not torch.cuda.is_available():
        devices = [None]
    elif torch.device(device).type == "cuda":
        torch.zeros(1, device=device)  # create the CUDA context outside every timing
        _sync(torch.device(device))
    start = time.perf_counter()
    rows = environment_rows(devices) + estimator_rows(sizes, seed, devices) + timing_rows(sizes, seed, devices)
    table = pd.DataFrame(rows, columns=COLUMNS).astype(object)
    table = table.where(table.notna(), None)
    out = Path(out_csv)
    out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out, index=False)
    log.info("gpu check: %d rows in %.1f s, %d failed; wrote %s", len(table), time.perf_counter() - start,
             len(failures(table)), out)  # fmt: skip
    return table


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="results/benchmarks/gpu_check.csv", help="the CSV to write")
    parser.add_argument("--quick", action="store_true", help="small sizes (seconds on CPU), for tests")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    if args.threads:
        torch.set_num_threads(args.threads)
    start = time.perf_counter()
    table = run_gpu_check(args.out, quick=args.quick, seed=args.seed)
    with pd.option_context("display.width", 250, "display.max_columns", None, "display.max_colwidth", 60):
        print(table.drop(columns=["note"]).map(lambda v: "" if v is None else v).to_string())
    bad = failures(table)
    compared = int(table["passed"].notna().sum())
    skipped = int((table["note"] == SKIPPED).sum())
    print(f"{compared} comparisons, {len(bad)} failed, {skipped} rows skipped; "
          f"{time.perf_counter() - start:.1f} s; wrote {args.out}")  # fmt: skip
    for r in bad.itertuples():
        print(f"FAILED {r.check} {r.estimator_or_task} on {r.device}: {r.note}")
    return 1 if len(bad) else 0


if __name__ == "__main__":
    sys.exit(main())
