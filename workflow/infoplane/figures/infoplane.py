"""The information plane: each layer's path through (I(X;T), I(T;Y)) over training.

One panel per (estimator, condition): rows are estimators, columns conditions (activation, and any
other swept value but the seed). Values are averaged over seeds at each (epoch, layer); points are
coloured by epoch on a log scale and the points of one layer are joined by a thin line, as in
Shwartz-Ziv & Tishby (2017), Fig. 3. Light error bars show the standard deviation across seeds.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.colors import LogNorm  # noqa: E402

from .conditions import condition_columns, with_condition  # noqa: E402


def plane_means(mi: pd.DataFrame) -> pd.DataFrame:
    """Mean and std over seeds of each quantity per (estimator, condition, epoch, layer).

    Wide: columns I_XT, I_TY (means) and I_XT_sd, I_TY_sd (standard deviations; 0 for one seed).
    """
    mi = with_condition(mi, condition_columns(mi))
    g = mi.groupby(["estimator", "condition", "epoch", "layer", "quantity"], sort=False)["mi_bits"]
    means = g.mean().unstack("quantity")
    sds = g.std(ddof=1).fillna(0.0).unstack("quantity").add_suffix("_sd")
    return pd.concat([means, sds], axis=1).reset_index()


def infoplane_figure(mi: pd.DataFrame, metrics: pd.DataFrame | None = None) -> plt.Figure:
    wide = plane_means(mi)
    estimators = list(dict.fromkeys(wide["estimator"]))
    conditions = list(dict.fromkeys(wide["condition"]))
    fig, axes = plt.subplots(len(estimators), len(conditions), figsize=(4.0 * len(conditions), 3.5 * len(estimators)),
                             squeeze=False, constrained_layout=True)  # fmt: skip
    norm = LogNorm(vmin=max(1, wide["epoch"].min()), vmax=max(2, wide["epoch"].max()))
    layer_cmap = plt.get_cmap("Greys")
    n_layers = int(wide["layer"].max())
    scatter = None
    for i, est in enumerate(estimators):
        for j, cond in enumerate(conditions):
            ax = axes[i, j]
            panel = wide[(wide["estimator"] == est) & (wide["condition"] == cond)]
            for layer, path in panel.groupby("layer"):
                path = path.sort_values("epoch")
                ax.errorbar(path["I_XT"], path["I_TY"], xerr=path["I_XT_sd"], yerr=path["I_TY_sd"], fmt="none",
                            ecolor="0.6", alpha=0.25, lw=0.6, zorder=0)  # fmt: skip
                ax.plot(path["I_XT"], path["I_TY"], color=layer_cmap(0.35 + 0.6 * layer / n_layers), lw=0.8, zorder=1)
                scatter = ax.scatter(path["I_XT"], path["I_TY"], c=np.maximum(path["epoch"], 1), cmap="viridis",
                                     norm=norm, s=9, zorder=2)  # fmt: skip
                last = path.iloc[-1]
                ax.annotate(str(layer), (last["I_XT"], last["I_TY"]), fontsize=7, xytext=(3, -3),
                            textcoords="offset points")  # fmt: skip
            ax.set_title(f"{cond} - {est}", fontsize=9)
            ax.set_xlabel("I(X;T) (bits)")
            ax.set_ylabel("I(T;Y) (bits)")
    if scatter is not None:
        fig.colorbar(scatter, ax=axes, label="epoch", shrink=0.8)
    return fig
