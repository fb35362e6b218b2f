"""The estimator accuracy benchmark: task x estimator x sample size x seed -> a tidy table.

Every row holds the task's closed-form MI (``truth_bits``), the estimate with its interval, and
whether the interval covers the truth; :func:`coverage_summary` gives, per estimator, the
empirical coverage of the nominal 95% intervals and the mean error. Ground truth lives in
:mod:`infoplane.tasks`; estimators are named presets as in the workflow config
(``{"ksg_3": {"method": "ksg", "k": 3}}``).
"""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd

from ..estimators import ESTIMATORS, estimate
from ..tasks import make_task

log = logging.getLogger(__name__)

DEFAULT_TASKS = {
    "gaussian_1+1": {"task": "gaussian", "dim_x": 1, "dim_y": 1, "mi_bits": 1.0},
    "gaussian_5+5": {"task": "gaussian", "dim_x": 5, "dim_y": 5, "mi_bits": 1.0},
    "asinh_2+2": {"task": "asinh", "dim_x": 2, "dim_y": 2, "mi_bits": 1.0},
    "student_t_1+1": {"task": "student_t", "dim_x": 1, "dim_y": 1, "gaussian_mi_bits": 0.5, "dof": 3},
    "additive_uniform_1": {"task": "additive_uniform", "dim": 1, "width": 0.5},
}
DEFAULT_ESTIMATORS = {
    "ksg": {"method": "ksg", "k": 3},
    "gaussian": {"method": "gaussian"},
    "pca_ksg": {"method": "pca_ksg", "components": 2},
    "infonce": {"method": "infonce", "steps": 150},
}


def accuracy_grid(
    tasks: dict[str, dict] | None = None,
    estimators: dict[str, dict] | None = None,
    sample_sizes=(500, 1000),
    seeds=(0, 1, 2),
    ci_resamples: int = 10,
    ci_seeds: int = 3,
    device: str = "auto",
) -> pd.DataFrame:
    """Run every (task, estimator, n, seed); one row each.

    tasks: name -> {"task": TASKS name, **its parameters}; estimators: name -> {"method": ..., **params}.
    ci_resamples: subsets per subsampling interval; ci_seeds: critic seeds per variational interval.
    """
    tasks = DEFAULT_TASKS if tasks is None else tasks
    estimators = DEFAULT_ESTIMATORS if estimators is None else estimators
    rows = []
    for task_name, spec in tasks.items():
        spec = dict(spec)
        task = make_task(spec.pop("task"), **spec)
        truth = float(task.mi_bits)
        for n in sample_sizes:
            for seed in seeds:
                x, y = task.sample(int(n), seed=int(seed))
                for est_name, preset in estimators.items():
                    params = dict(preset)
                    method = params.pop("method")
                    seeds_ci = method in ESTIMATORS and ESTIMATORS[method].ci == "seeds"
                    b = ci_seeds if seeds_ci else ci_resamples
                    r = estimate(method, x, y, device=device, ci_resamples=b, seed=int(seed), **params)
                    lo, hi = r.ci_low_bits, r.ci_high_bits
                    rows.append(
                        {
                            "task": task_name,
                            "task_params": json.dumps(spec, sort_keys=True),
                            "dim_x": x.shape[1],
                            "dim_y": y.shape[1],
                            "estimator": est_name,
                            "method": method,
                            "n": int(n),
                            "seed": int(seed),
                            "truth_bits": truth,
                            "mi_bits": r.mi_bits,
                            "ci_low_bits": np.nan if lo is None else lo,
                            "ci_high_bits": np.nan if hi is None else hi,
                            "covered": bool(lo is not None and lo <= truth <= hi),
                            "error_bits": r.mi_bits - truth,
                            "seconds": r.seconds,
                        }
                    )
                    log.info("%s n=%d seed=%d %s: %.3f bits (truth %.3f) in %.2f s",
                             task_name, n, seed, est_name, r.mi_bits, truth, r.seconds)  # fmt: skip
    df = pd.DataFrame(rows)
    df["coverage"] = df.groupby("estimator")["covered"].transform("mean")
    return df


def coverage_summary(df: pd.DataFrame) -> pd.DataFrame:
    """Per estimator: empirical coverage of the intervals, mean and mean absolute error, in bits."""
    g = df.groupby("estimator")
    return pd.DataFrame(
        {
            "coverage": g["covered"].mean(),
            "mean_error_bits": g["error_bits"].mean(),
            "mean_abs_error_bits": g["error_bits"].apply(lambda e: e.abs().mean()),
            "points": g.size(),
        }
    ).reset_index()


def accuracy_figure(df: pd.DataFrame):
    """Estimate against truth with intervals: one panel per estimator, colour by task, y = x dashed."""
    import matplotlib.pyplot as plt  # noqa: PLC0415

    estimators = list(dict.fromkeys(df["estimator"]))
    tasks = list(dict.fromkeys(df["task"]))
    colours = dict(zip(tasks, plt.get_cmap("tab10").colors, strict=False))
    sizes = sorted(df["n"].unique())
    offsets = dict(zip(sizes, np.linspace(-0.04, 0.04, len(sizes)), strict=True))
    cols = min(4, len(estimators))
    rows = -(-len(estimators) // cols)
    fig, axes = plt.subplots(
        rows, cols, figsize=(3.6 * cols, 3.4 * rows), squeeze=False, constrained_layout=True
    )
    top = float(np.nanmax(df[["truth_bits", "mi_bits", "ci_high_bits"]].to_numpy())) * 1.05
    bottom = min(0.0, float(np.nanmin(df[["mi_bits", "ci_low_bits"]].to_numpy())))
    for ax, est in zip(axes.flat, estimators, strict=False):
        sub = df[df["estimator"] == est]
        ax.plot([bottom, top], [bottom, top], ls="--", c="grey", lw=0.8)
        for (task, n), pts in sub.groupby(["task", "n"], sort=False):
            xs = pts["truth_bits"] + offsets[n] * top
            # Intervals as bars of their own: a basic subsampling interval need not contain the point.
            ax.vlines(xs, pts["ci_low_bits"], pts["ci_high_bits"], colors=[colours[task]], lw=0.8, alpha=0.7)
            label = task if n == sizes[-1] else None
            ax.plot(xs, pts["mi_bits"], "o", ms=3, c=colours[task], alpha=0.8, label=label)
        cov = sub["covered"].mean()
        ax.set(title=f"{est} (coverage {cov:.0%})", xlabel="true MI (bits)", ylabel="estimate (bits)")
        ax.set_xlim(bottom, top)
        ax.set_ylim(bottom, top)
    for ax in list(axes.flat)[len(estimators) :]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(5, len(tasks)), fontsize="small")
    return fig
