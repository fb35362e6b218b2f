"""The known-MI benchmarks: every task of a suite x every estimator preset.

Two suites: ``czyz`` (:mod:`infoplane.tasks.suite`, the 40 tasks of Czyz et al. 2023, one n for
all) and ``manifold`` (:mod:`infoplane.tasks.manifold`: low-dimensional sources pushed through
injective maps into 50-1024 dimensions, each task with its own n).

One row per (task, estimator, seed): the truth, the estimate with its interval, the reliability
verdict where a check ran, the time, and the error message where the estimator refused (a row
with an error has no estimate; there is never a NaN estimate). :func:`summary` gives per estimator
(and per family, for the manifold suite) the number of tasks solved (|ln(estimate / truth)| <
ln 1.5, the criterion of Czyz et al. 2023; at a truth of 0, |estimate| < ``ZERO_SOLVED_BITS``),
how often the 95% interval covers the truth, *false reliable* (flagged reliable while the interval
misses the truth), and the count of errors; :func:`heatmap` draws |log2(estimate / truth)| as task
x estimator.
"""

from __future__ import annotations

import logging
import math
import time

import numpy as np
import pandas as pd

from ..estimators import estimate
from ..tasks.manifold import family_of, manifold_tasks
from ..tasks.suite import benchmark_tasks

log = logging.getLogger(__name__)

DEFAULT_ESTIMATORS = {
    "ksg": {"method": "ksg", "k": 3},
    "ksg_copula": {"method": "ksg", "k": 3, "marginals": "copula"},
    "gaussian": {"method": "gaussian"},
    "gaussian_copula": {"method": "gaussian", "marginals": "copula"},
    "tcopula": {"method": "tcopula"},
    "auto": {"method": "auto"},
}
SOLVED = math.log(1.5)
ZERO_SOLVED_BITS = 0.1  # at a truth of 0 bits a ratio means nothing: solved is |estimate| below this
SUITES = ("czyz", "manifold")
MANIFOLD_ESTIMATORS = {
    "ksg": {"method": "ksg", "k": 3},
    "ksg_copula": {"method": "ksg", "k": 3, "marginals": "copula"},
    "gaussian_copula": {"method": "gaussian", "marginals": "copula"},
    "pca_wkl": {"method": "pca_wkl"},
    "infonce": {"method": "infonce"},
    "auto": {"method": "auto"},
}


def suite_tasks(suite: str = "czyz", n: int | None = None) -> dict[str, tuple[object, int, str]]:
    """{name: (task, n, family)} of ``suite``; ``n`` overrides every task's sample size (czyz: 5000)."""
    if suite not in SUITES:
        raise ValueError(f"estimator_benchmark suite: unknown suite {suite!r}; known: {SUITES}")
    if suite == "czyz":
        return {name: (t, int(n or 5000), "czyz") for name, t in benchmark_tasks().items()}
    return {name: (t, int(n or size), family_of(name)) for name, (t, size) in manifold_tasks().items()}


def run_suite(
    estimators: dict[str, dict] | None = None,
    tasks: list[str] | None = None,
    n: int | None = None,
    seeds=(0,),
    ci_resamples: int = 10,
    device: str = "auto",
    suite: str = "czyz",
) -> pd.DataFrame:
    """Rows of (task, estimator, seed); ``tasks``: names of the suite's tasks (None: all).

    n: the sample size of every task (None: 5000 for czyz, each task's own for manifold).
    """
    estimators = DEFAULT_ESTIMATORS if estimators is None else estimators
    known = suite_tasks(suite, n)
    names = list(known) if tasks is None else list(tasks)
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise ValueError(f"estimator_benchmark.suite.tasks: unknown tasks {unknown}; known: {list(known)}")
    rows = []
    for name in names:
        task, size, family = known[name]
        truth = float(task.mi_bits)
        for seed in seeds:
            x, y = task.sample(size, seed=int(seed))
            for est_name, preset in estimators.items():
                params = dict(preset)
                method = params.pop("method")
                row = {
                    "suite": suite,
                    "family": family,
                    "task": name,
                    "dim_x": x.shape[1],
                    "dim_y": y.shape[1],
                    "estimator": est_name,
                    "method": method,
                    "n": int(size),
                    "seed": int(seed),
                    "truth_bits": truth,
                }
                start = time.perf_counter()
                try:
                    r = estimate(method, x, y, device=device, seed=int(seed), ci_resamples=ci_resamples, **params)
                except ValueError as err:
                    row.update(
                        mi_bits=np.nan,
                        ci_low_bits=np.nan,
                        ci_high_bits=np.nan,
                        reliable=None,
                        chosen="",
                        error=str(err),
                        seconds=time.perf_counter() - start,
                    )
                    log.warning("%s on %s: %s", est_name, name, err)
                else:
                    row.update(
                        mi_bits=r.mi_bits,
                        ci_low_bits=r.ci_low_bits,
                        ci_high_bits=r.ci_high_bits,
                        reliable=r.reliable,
                        chosen=r.params.get("chosen", ""),
                        error="",
                        seconds=r.seconds,
                    )
                rows.append(row)
                log.info("%-32s %-16s %.3f (truth %.3f) %.1f s", name, est_name, row["mi_bits"], truth, row["seconds"])
    df = pd.DataFrame(rows)
    ratio = df["mi_bits"] / df["truth_bits"]
    df["abs_log2_ratio"] = np.abs(np.log2(ratio.where(ratio > 0)))
    zero = df["truth_bits"] == 0
    df["solved"] = np.where(
        zero, np.abs(df["mi_bits"]) < ZERO_SOLVED_BITS, np.abs(np.log(ratio.where(ratio > 0))) < SOLVED
    )
    df["covers"] = (df["ci_low_bits"] <= df["truth_bits"]) & (df["truth_bits"] <= df["ci_high_bits"])
    df["false_reliable"] = (df["reliable"] == True) & ~df["covers"]  # noqa: E712  (None: no check ran)
    return df


def summary(df: pd.DataFrame, by_family: bool = False) -> pd.DataFrame:
    """Per estimator (and family): tasks solved (of those run), interval coverage, false reliable (flagged
    reliable, interval misses the truth), reliable flags, errors, NaN estimates, seconds."""
    keys = ["estimator", "family"] if by_family and "family" in df else ["estimator"]
    out = []
    for key, g in df.groupby(keys, sort=False):
        ok = g[g["error"] == ""]
        out.append({
            **dict(zip(keys, key if isinstance(key, tuple) else (key,), strict=True)),
            "tasks": g["task"].nunique(),
            "solved": int(g.groupby("task")["solved"].mean().gt(0.5).sum()),
            "coverage": float(ok["covers"].mean()) if len(ok) else float("nan"),
            "false_reliable": int(g["false_reliable"].sum()) if "false_reliable" in g else 0,
            "reliable": int((g["reliable"] == True).sum()),  # noqa: E712
            "errors": int((g["error"] != "").sum()),
            "nan_estimates": int((g["error"] == "").sum() - np.isfinite(ok["mi_bits"]).sum()),
            "seconds": float(g["seconds"].sum()),
        })  # fmt: skip
    return pd.DataFrame(out)


def heatmap(df: pd.DataFrame, path: str) -> None:
    """Task x estimator heatmap of |log2(estimate / truth)| (mean over seeds), solved cells marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = df.pivot_table(index="task", columns="estimator", values="abs_log2_ratio", aggfunc="mean", sort=False)
    solved = df.pivot_table(index="task", columns="estimator", values="solved", aggfunc="mean", sort=False)
    fig, ax = plt.subplots(figsize=(1.2 * table.shape[1] + 3, 0.28 * table.shape[0] + 1.5), constrained_layout=True)
    im = ax.imshow(np.clip(table.to_numpy(float), 0, 2), cmap="viridis_r", vmin=0, vmax=2, aspect="auto")
    for i in range(table.shape[0]):
        for j in range(table.shape[1]):
            v = table.iat[i, j]
            mark = "" if not np.isfinite(v) else ("*" if solved.iat[i, j] > 0.5 else "")
            ax.text(
                j,
                i,
                "err" if not np.isfinite(v) else f"{v:.2f}{mark}",
                ha="center",
                va="center",
                fontsize=6,
                color="white" if np.isfinite(v) and v > 1 else "black",
            )
    ax.set_xticks(range(table.shape[1]), table.columns, rotation=45, ha="right")
    ax.set_yticks(range(table.shape[0]), table.index, fontsize=7)
    sizes = sorted(set(df["n"].astype(int)))
    n = str(sizes[0]) if len(sizes) == 1 else "each task's own"
    ax.set_title(f"|log2(estimate / truth)|, n = {n} (* solved: ratio within 1.5x)", fontsize=9)
    fig.colorbar(im, ax=ax, shrink=0.6, label="|log2 ratio| (clipped at 2)")
    fig.savefig(path, dpi=150)
    plt.close(fig)


PEER_TABLES = {"latentmi": "data/latentmi_manifold.csv"}  # measured in the peer's own environment, shipped


def peer_rows(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with a row per (task, seed) of each peer's shipped measurement on the same tasks.

    The peers run in their own environments (``benchmarks/latentmi_peer.py``), never here; their tables
    hold (task, seed, n, truth_bits, <peer>_bits, seconds). A table whose truth differs from the task's
    is stale (the task changed after it was measured) and raises.
    """
    from pathlib import Path

    extra = []
    for peer, rel in PEER_TABLES.items():
        path = Path(__file__).parent / rel
        if not path.exists() or path.stat().st_size == 0:
            log.warning("no shipped table of %s at %s: the peer is left out", peer, path)
            continue
        table = pd.read_csv(path)
        ours = df.drop_duplicates(["task", "seed"]).set_index(["task", "seed"])
        for row in table.itertuples(index=False):
            key = (row.task, int(row.seed))
            if key not in ours.index:
                continue
            base = ours.loc[key]
            if not math.isclose(float(base["truth_bits"]), float(row.truth_bits), rel_tol=1e-6, abs_tol=1e-9):
                raise ValueError(
                    f"{path}: task {row.task!r} has truth {row.truth_bits} bits there and {base['truth_bits']} here; "
                    "the shipped peer table is stale, rerun benchmarks/latentmi_peer.py"
                )
            value = float(getattr(row, f"{peer}_bits"))
            extra.append({
                "suite": base["suite"], "family": base["family"], "task": row.task, "dim_x": base["dim_x"],
                "dim_y": base["dim_y"], "estimator": f"{peer} (shipped table)", "method": peer, "n": int(row.n),
                "seed": int(row.seed), "truth_bits": float(row.truth_bits), "mi_bits": value, "ci_low_bits": np.nan,
                "ci_high_bits": np.nan, "reliable": None, "chosen": "", "error": "", "seconds": float(row.seconds),
            })  # fmt: skip
    if not extra:
        return df
    peers = pd.DataFrame(extra)
    ratio = peers["mi_bits"] / peers["truth_bits"]
    zero = peers["truth_bits"] == 0
    peers["abs_log2_ratio"] = np.abs(np.log2(ratio.where(ratio > 0)))
    peers["solved"] = np.where(
        zero, np.abs(peers["mi_bits"]) < ZERO_SOLVED_BITS, np.abs(np.log(ratio.where(ratio > 0))) < SOLVED
    )
    peers["covers"] = False
    peers["false_reliable"] = False
    return pd.concat([df, peers], ignore_index=True)
