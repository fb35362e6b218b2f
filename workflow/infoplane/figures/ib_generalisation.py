"""The loss gap against the information the layers keep (Kawaguchi et al. 2023), baselines alongside.

Top row: per model, the test - train loss gap against I(X;Z|Y) summarised over the stochastic
layers (min, mean, last). Bottom row: the same gap against the baselines (parameter count, sum and
log-product of the weight norms). Each panel's title gives Spearman's rho and its bootstrap
interval over models; colour shows the weight decay and marker the width when they are swept.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from ..analysis.generalisation import BASELINES, SUMMARIES  # noqa: E402
from ..claims.kawaguchi2023 import GAP_COLUMN, rank_correlation_ci  # noqa: E402

LABELS = {
    "n_parameters": "parameter count",
    "weight_norm_sum": "sum of weight norms",
    "weight_norm_log_product": "log product of weight norms",
}


def ib_generalisation_figure(
    mi: pd.DataFrame, metrics: pd.DataFrame | None = None, generalisation: pd.DataFrame | None = None
) -> plt.Figure:
    if generalisation is None:
        raise ValueError("the ib_generalisation figure needs the experiment's generalisation table")
    g = generalisation
    hue = "weight_decay" if "weight_decay" in g.columns and g["weight_decay"].nunique() > 1 else None
    style = "width_factor" if "width_factor" in g.columns and g["width_factor"].nunique() > 1 else None
    panels = [(f"ixz_given_y_{s}_bits", f"I(X;Z|Y), {s} over layers (bits)") for s in SUMMARIES]
    panels += [(b, LABELS[b]) for b in BASELINES]
    fig, axes = plt.subplots(2, 3, figsize=(12.6, 7.2), constrained_layout=True)
    for ax, (column, label) in zip(axes.flat, panels, strict=True):
        sns.scatterplot(data=g, x=column, y=GAP_COLUMN, hue=hue, style=style, palette="viridis" if hue else None,
                        ax=ax, legend=ax is axes[0, -1])  # fmt: skip
        r, lo, hi = rank_correlation_ci(g[column], g[GAP_COLUMN])
        ax.set(title=f"Spearman rho = {r:.2f} [{lo:.2f}, {hi:.2f}]", xlabel=label, ylabel="test - train loss")
        if column == "n_parameters":
            ax.set_xscale("log")
    if axes[0, -1].get_legend() is not None:
        sns.move_legend(axes[0, -1], "upper left", bbox_to_anchor=(1.02, 1), fontsize=7)
    fig.suptitle(f"generalisation gap and information kept ({len(g)} models)")
    return fig


ib_generalisation_figure.tables = ("generalisation",)
