"""I(X;L) and I(L;Y) of every layer over epochs, with the test loss beside them (Butakov et al. 2024, Fig. 4).

Three panels: I(X;L) per layer, I(L;Y) per layer (mean over runs, band: the mean 95% interval of
the estimator), and the test loss, all against the epoch, so a compression phase can be read off
against the fall of the loss.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402


def mi_epochs_figure(mi: pd.DataFrame, metrics: pd.DataFrame | None = None) -> plt.Figure:
    estimator = mi["estimator"].iloc[0] if "estimator" in mi else ""
    mi = mi[mi["estimator"] == estimator] if "estimator" in mi else mi
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), constrained_layout=True)
    for ax, (quantity, label) in zip(axes[:2], [("I_XT", "I(X;L)"), ("I_TY", "I(L;Y)")], strict=True):
        for layer, g in mi[mi["quantity"] == quantity].groupby("layer"):
            m = g.groupby("epoch")[["mi_bits", "ci_low_bits", "ci_high_bits"]].mean()
            (line,) = ax.plot(m.index, m["mi_bits"], label=f"layer {layer}")
            ax.fill_between(m.index, m["ci_low_bits"], m["ci_high_bits"], color=line.get_color(), alpha=0.2, lw=0)
        ax.set(xlabel="epoch", ylabel=f"{label} (bits)", title=f"{label}, {estimator}")
    axes[1].legend(fontsize=7)
    if metrics is not None and "test_loss" in metrics:
        loss = metrics.groupby("epoch")[["train_loss", "test_loss"]].mean()
        axes[2].plot(loss.index, loss["test_loss"], label="test")
        axes[2].plot(loss.index, loss["train_loss"], label="train", ls="--")
        axes[2].legend(fontsize=7)
    axes[2].set(xlabel="epoch", ylabel="cross-entropy loss", title="loss")
    return fig
