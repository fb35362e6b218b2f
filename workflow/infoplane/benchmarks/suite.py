"""The known-MI benchmark: every task of :mod:`infoplane.tasks.suite` x every estimator preset.

One row per (task, estimator, seed): the truth, the estimate with its interval, the reliability
verdict where a check ran, the time, and the error message where the estimator refused (a row
with an error has no estimate; there is never a NaN estimate). :func:`summary` gives per estimator
the number of tasks solved (|ln(estimate / truth)| < ln 1.5, the criterion of Czyz et al. 2023),
how often the 95% interval covers the truth, and the count of errors; :func:`heatmap` draws
|log2(estimate / truth)| as task x estimator.
"""

from __future__ import annotations

import logging
import math
import time

import numpy as np
import pandas as pd

from ..estimators import estimate
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


def run_suite(
    estimators: dict[str, dict] | None = None,
    tasks: list[str] | None = None,
    n: int = 5000,
    seeds=(0,),
    ci_resamples: int = 10,
    device: str = "auto",
) -> pd.DataFrame:
    """Rows of (task, estimator, seed); ``tasks``: names from benchmark_tasks() (None: all 40)."""
    estimators = DEFAULT_ESTIMATORS if estimators is None else estimators
    suite = benchmark_tasks()
    names = list(suite) if tasks is None else list(tasks)
    unknown = sorted(set(names) - set(suite))
    if unknown:
        raise ValueError(f"estimator_benchmark.suite.tasks: unknown tasks {unknown}; known: {list(suite)}")
    rows = []
    for name in names:
        task = suite[name]
        truth = float(task.mi_bits)
        for seed in seeds:
            x, y = task.sample(int(n), seed=int(seed))
            for est_name, preset in estimators.items():
                params = dict(preset)
                method = params.pop("method")
                row = {
                    "task": name,
                    "dim_x": x.shape[1],
                    "dim_y": y.shape[1],
                    "estimator": est_name,
                    "method": method,
                    "n": int(n),
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
    df["solved"] = np.abs(np.log(ratio.where(ratio > 0))) < SOLVED
    df["covers"] = (df["ci_low_bits"] <= df["truth_bits"]) & (df["truth_bits"] <= df["ci_high_bits"])
    return df


def summary(df: pd.DataFrame) -> pd.DataFrame:
    """Per estimator: tasks solved (of those run), interval coverage, errors, NaN estimates, seconds."""
    out = []
    for est, g in df.groupby("estimator", sort=False):
        ok = g[g["error"] == ""]
        out.append({
            "estimator": est,
            "tasks": g["task"].nunique(),
            "solved": int(g.groupby("task")["solved"].mean().gt(0.5).sum()),
            "coverage": float(ok["covers"].mean()) if len(ok) else float("nan"),
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
    n = int(df["n"].iloc[0])
    ax.set_title(f"|log2(estimate / truth)|, n = {n} (* solved: ratio within 1.5x)", fontsize=9)
    fig.colorbar(im, ax=ax, shrink=0.6, label="|log2 ratio| (clipped at 2)")
    fig.savefig(path, dpi=150)
    plt.close(fig)
