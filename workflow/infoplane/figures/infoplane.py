"""The information plane: each layer's path through (I(X;T), I(T;Y)) over training.

One panel per (estimator, activation): rows are estimators, columns activations. Values are
averaged over seeds at each (epoch, layer); points are coloured by epoch on a log scale and the
points of one layer are joined by a thin line, as in Shwartz-Ziv & Tishby (2017), Fig. 3.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.colors import LogNorm  # noqa: E402


def plane_means(mi: pd.DataFrame) -> pd.DataFrame:
    """Mean over runs of each quantity per (estimator, activation, epoch, layer), wide in I_XT and I_TY."""
    means = mi.groupby(["estimator", "activation", "epoch", "layer", "quantity"])["mi_bits"].mean()
    return means.unstack("quantity").reset_index()


def infoplane_figure(mi: pd.DataFrame, metrics: pd.DataFrame | None = None) -> plt.Figure:
    wide = plane_means(mi)
    estimators = list(dict.fromkeys(mi["estimator"]))
    activations = list(dict.fromkeys(mi["activation"]))
    fig, axes = plt.subplots(len(estimators), len(activations), figsize=(4.2 * len(activations), 3.6 * len(estimators)),
                             squeeze=False, constrained_layout=True)
    norm = LogNorm(vmin=max(1, wide["epoch"].min()), vmax=max(2, wide["epoch"].max()))
    layer_cmap = plt.get_cmap("Greys")
    n_layers = int(wide["layer"].max())
    scatter = None
    for i, est in enumerate(estimators):
        for j, act in enumerate(activations):
            ax = axes[i, j]
            panel = wide[(wide["estimator"] == est) & (wide["activation"] == act)]
            for layer, path in panel.groupby("layer"):
                path = path.sort_values("epoch")
                ax.plot(path["I_XT"], path["I_TY"], color=layer_cmap(0.35 + 0.6 * layer / n_layers), lw=0.8, zorder=1)
                scatter = ax.scatter(path["I_XT"], path["I_TY"], c=np.maximum(path["epoch"], 1), cmap="viridis",
                                     norm=norm, s=9, zorder=2)
                last = path.iloc[-1]
                ax.annotate(str(layer), (last["I_XT"], last["I_TY"]), fontsize=7, xytext=(3, -3),
                            textcoords="offset points")
            ax.set_title(f"{act} - {est}", fontsize=10)
            ax.set_xlabel("I(X;T) (bits)")
            ax.set_ylabel("I(T;Y) (bits)")
    if scatter is not None:
        fig.colorbar(scatter, ax=axes, label="epoch", shrink=0.8)
    return fig
