"""Compression across estimators and conditions, and its relation to generalisation.

``compression``: I(X;T) of the last hidden layer against epoch, one panel per estimator side by side
(the same runs), one line per condition: the mean over seeds with a band of one standard deviation.
Whether a curve falls after its peak (compression) is what the estimators disagree about.

``generalisation``: per run, the last hidden layer's compression (max - final) / max of I(X;T)
against the train - test accuracy gap, one panel per estimator (Chelombiev et al. 2019, Fig. 7).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from ..claims.measures import generalisation_gap, relative_compression  # noqa: E402
from ..claims.stats import correlation_ci  # noqa: E402
from .conditions import condition_columns, with_condition  # noqa: E402


def _last_hidden(mi: pd.DataFrame) -> int:
    return int(mi["layer"].max()) - 1


def compression_figure(mi: pd.DataFrame, metrics: pd.DataFrame | None = None) -> plt.Figure:
    layer = _last_hidden(mi)
    sel = with_condition(mi[(mi["quantity"] == "I_XT") & (mi["layer"] == layer)], condition_columns(mi))
    estimators = list(dict.fromkeys(sel["estimator"]))
    fig, axes = plt.subplots(1, len(estimators), figsize=(4.2 * len(estimators), 3.6), squeeze=False,
                             constrained_layout=True)  # fmt: skip
    for ax, est in zip(axes[0], estimators, strict=True):
        data = sel[(sel["estimator"] == est) & (sel["epoch"] > 0)]
        sns.lineplot(data=data, x="epoch", y="mi_bits", hue="condition", errorbar="sd", ax=ax,
                     legend=ax is axes[0, -1])  # fmt: skip
        ax.set(xscale="log", title=est, xlabel="epoch", ylabel=f"I(X;T) of layer {layer} (bits)")
    legend = axes[0, -1].get_legend()
    if legend is not None:
        sns.move_legend(axes[0, -1], "upper left", bbox_to_anchor=(1.02, 1), fontsize=7, title=None)
    return fig


def generalisation_figure(mi: pd.DataFrame, metrics: pd.DataFrame) -> plt.Figure:
    layer = _last_hidden(mi)
    gap = generalisation_gap(metrics).rename("gap")
    estimators = list(dict.fromkeys(mi["estimator"]))
    columns = condition_columns(mi)
    fig, axes = plt.subplots(1, len(estimators), figsize=(4.2 * len(estimators), 3.6), squeeze=False,
                             constrained_layout=True)  # fmt: skip
    for ax, est in zip(axes[0], estimators, strict=True):
        part = mi[mi["estimator"] == est]
        runs = part.groupby("run")[columns].first()
        runs["compression"] = relative_compression(part, layer)
        runs = with_condition(runs.join(gap), [c for c in columns if c != "l2"])
        style = "l2" if "l2" in runs.columns else None
        sns.scatterplot(data=runs, x="compression", y="gap", hue="condition", style=style, ax=ax,
                        legend=ax is axes[0, -1])  # fmt: skip
        r, lo, hi = correlation_ci(runs["compression"], runs["gap"])
        ax.set(title=f"{est}: r = {r:.2f} [{lo:.2f}, {hi:.2f}]", xlabel=f"compression of layer {layer} (fraction)",
               ylabel="train - test accuracy")  # fmt: skip
    if axes[0, -1].get_legend() is not None:
        sns.move_legend(axes[0, -1], "upper left", bbox_to_anchor=(1.02, 1), fontsize=7, title=None)
    return fig
