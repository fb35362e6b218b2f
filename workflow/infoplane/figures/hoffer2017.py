"""The figures of Hoffer, Hubara & Soudry (2017): weight diffusion and the accuracy of each regime.

``diffusion_figure``: ||w_t - w_0|| of all parameters against the number of updates t on a log axis,
one line per condition (mean over seeds, band of one standard deviation); a straight line there is
the log(t) growth of "ultra-slow diffusion". A second panel shows the first hidden layer.
``regime_accuracy_figure``: the final test accuracy per condition, one point per seed, with the mean
and its 95% t-interval.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from ..claims.hoffer2017 import final_accuracy  # noqa: E402
from ..claims.stats import mean_ci  # noqa: E402


def _conditions(table: pd.DataFrame) -> list:
    return list(dict.fromkeys(table["condition"])) if "condition" in table else [None]


def diffusion_figure(mi: pd.DataFrame, metrics: pd.DataFrame | None = None, distance=None) -> plt.Figure:
    if distance is None:
        raise ValueError("the diffusion figure needs the experiment's distance table")
    d = distance[distance["updates"] > 0]
    panels = [("total", "all parameters"), ("layer1", "first hidden layer")]
    fig, axes = plt.subplots(1, 2, figsize=(10.5, 4.2), constrained_layout=True)
    for ax, (layer, title) in zip(axes, panels, strict=True):
        for i, cond in enumerate(_conditions(d)):
            part = d[(d["layer"] == layer) & ((d["condition"] == cond) if cond is not None else True)]
            stats = part.groupby("updates")["distance"].agg(["mean", "std"]).reset_index()
            colour = f"C{i}"
            ax.plot(stats["updates"], stats["mean"], color=colour, label=str(cond), lw=1.5)
            ax.fill_between(stats["updates"], stats["mean"] - stats["std"].fillna(0),
                            stats["mean"] + stats["std"].fillna(0), color=colour, alpha=0.2, lw=0)  # fmt: skip
        ax.set(xscale="log", xlabel="updates t", ylabel="||w_t - w_0||", title=title)
    axes[0].legend(fontsize=8, title="condition")
    fig.suptitle("distance from initialisation against updates (mean over seeds, band: 1 std)")
    return fig


diffusion_figure.tables = ("distance",)


def regime_accuracy_figure(mi: pd.DataFrame, metrics: pd.DataFrame, **_) -> plt.Figure:
    final = final_accuracy(metrics)
    conditions = _conditions(metrics)  # in the config's order, as the diffusion figure's colours
    fig, ax = plt.subplots(figsize=(1.4 * len(conditions) + 2.5, 4.0), constrained_layout=True)
    for i, cond in enumerate(conditions):
        acc = final.loc[final["condition"] == cond, "test_accuracy"].to_numpy() if cond is not None else \
            final["test_accuracy"].to_numpy()  # fmt: skip
        jitter = np.linspace(-0.12, 0.12, len(acc)) if len(acc) > 1 else np.zeros(1)
        ax.scatter(i + jitter, acc, color=f"C{i}", alpha=0.6, s=18)
        m, lo, hi = mean_ci(acc)
        ax.errorbar(i, m, yerr=[[m - lo], [hi - m]], color="k", marker="_", markersize=16, capsize=4)
    ax.set_xticks(range(len(conditions)), [str(c) for c in conditions], rotation=20)
    ax.set(ylabel="final test accuracy", title="final test accuracy per regime (points: seeds; bar: mean, 95% CI)")
    return fig
