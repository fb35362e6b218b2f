"""Curves over epochs: gradient drift and diffusion per layer, and training loss and accuracy."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from .conditions import condition_columns, with_condition  # noqa: E402


def _long(metrics: pd.DataFrame, prefix: str, value: str) -> pd.DataFrame:
    cols = [c for c in metrics.columns if c.startswith(prefix)]
    out = metrics.melt(id_vars=["condition", "seed", "epoch"], value_vars=cols, var_name="layer", value_name=value)
    out["layer"] = out["layer"].str.removeprefix(prefix).astype(int)
    return out


def gradients_figure(mi: pd.DataFrame | None, metrics: pd.DataFrame) -> plt.Figure:
    """Norm of the mean gradient (drift, solid) and its std (diffusion, dashed) per layer, log-log, mean over seeds."""
    m = with_condition(metrics[metrics["epoch"] > 0], condition_columns(metrics))
    mean = _long(m, "grad_mean_norm_layer", "value").assign(statistic="mean")
    std = _long(m, "grad_std_layer", "value").assign(statistic="std")
    both = pd.concat([mean, std], ignore_index=True)
    conditions = list(dict.fromkeys(both["condition"]))
    fig, axes = plt.subplots(
        1, len(conditions), figsize=(4.5 * len(conditions), 3.6), squeeze=False, constrained_layout=True
    )
    for ax, cond in zip(axes[0], conditions, strict=True):
        sns.lineplot(
            data=both[both["condition"] == cond],
            x="epoch",
            y="value",
            hue="layer",
            style="statistic",
            palette="viridis",
            errorbar=None,
            ax=ax,
        )
        ax.set(xscale="log", yscale="log", title=cond, xlabel="epoch", ylabel="gradient (mean norm / std)")
    return fig


def training_figure(mi: pd.DataFrame | None, metrics: pd.DataFrame) -> plt.Figure:
    """Train and test loss and accuracy against epoch, mean over seeds with a 95% band."""
    long = with_condition(metrics, condition_columns(metrics)).melt(
        id_vars=["condition", "seed", "epoch"],
        value_vars=["train_loss", "test_loss", "train_accuracy", "test_accuracy"],
        var_name="series",
        value_name="value",
    )
    long["split"] = long["series"].str.split("_").str[0]
    long["metric"] = long["series"].str.split("_").str[1]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), constrained_layout=True)
    for ax, metric in zip(axes, ["loss", "accuracy"], strict=True):
        sns.lineplot(
            data=long[(long["metric"] == metric) & (long["epoch"] > 0)],
            x="epoch",
            y="value",
            hue="condition",
            style="split",
            errorbar=("ci", 95),
            ax=ax,
        )
        ax.set(xscale="log", title=metric, ylabel=metric)
    return fig
