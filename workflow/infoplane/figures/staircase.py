"""The staircase figure of Song & Ermon (2020): each variational estimate against the training step.

One panel per (transform, method): the per-step estimates of the first seed (faint), their
exponential moving average averaged over seeds (one colour per critic), the true MI staircase
(black) and log(batch size), the ceiling of InfoNCE (dashed). Reads the tidy staircase table
(:mod:`infoplane.benchmarks.staircase`); not in ``FIGURES``, whose functions read an experiment's MI table.
"""

from __future__ import annotations

import math

import pandas as pd

CRITIC_COLOURS = {"concat": "tab:blue", "separable": "tab:orange"}
CRITIC_NAMES = {"concat": "joint critic", "separable": "separable critic"}


def _title(method: str) -> str:
    if method.startswith("smile_tau"):
        tau = method.removeprefix("smile_tau")
        return f"SMILE (tau = {'inf' if tau == 'inf' else tau})"
    return {"mine": "MINE", "nwj": "NWJ", "infonce": "InfoNCE (CPC)"}.get(method, method)


def _order(methods) -> list[str]:
    fixed = ["infonce", "nwj", "mine"]
    smile = sorted((m for m in methods if m.startswith("smile_tau")), key=lambda m: float(m.removeprefix("smile_tau")))
    return [m for m in fixed if m in methods] + smile + sorted(set(methods) - set(fixed) - set(smile))


def staircase_figure(estimates: pd.DataFrame, smoothing: float = 0.9):
    """A (transforms x methods) grid of estimate (nats) against step; ``smoothing``: the EMA's weight on the past."""
    import matplotlib.pyplot as plt

    if not 0 <= smoothing < 1:
        raise ValueError(f"variational_limits.smoothing must lie in [0, 1), got {smoothing}")
    methods = _order(estimates["method"].unique())
    transforms = [t for t in ("gaussian", "cubic") if t in set(estimates["transform"])]
    transforms += sorted(set(estimates["transform"]) - set(transforms))
    fig, axes = plt.subplots(
        len(transforms), len(methods), figsize=(3.0 * len(methods), 2.8 * len(transforms)),
        sharex=True, sharey=True, squeeze=False,
    )  # fmt: skip
    log_b = math.log(int(estimates["batch_size"].iloc[0]))
    staircase = estimates.drop_duplicates("step").sort_values("step")
    top = float(staircase["true_mi_nats"].max())
    first_seed = estimates["seed"].min()
    for r, transform in enumerate(transforms):
        for c, method in enumerate(methods):
            ax = axes[r, c]
            sel = estimates[(estimates["transform"] == transform) & (estimates["method"] == method)]
            for critic, g in sel.groupby("critic", sort=True):
                colour = CRITIC_COLOURS.get(critic)
                raw = g[g["seed"] == first_seed].sort_values("step")
                ax.plot(raw["step"], raw["estimate_nats"], color=colour, alpha=0.25, lw=0.5)
                ema = (
                    g.sort_values("step")
                    .groupby("seed")["estimate_nats"]
                    .transform(lambda v: v.ewm(alpha=1 - smoothing).mean())
                )
                mean = ema.groupby(g.sort_values("step")["step"]).mean()
                ax.plot(mean.index, mean.to_numpy(), color=colour, lw=1.4, label=CRITIC_NAMES.get(critic, critic))
            ax.step(staircase["step"], staircase["true_mi_nats"], where="post", color="black", lw=1.2, label="true MI")
            ax.axhline(log_b, color="grey", ls="--", lw=1, label=f"log(batch) = {log_b:.2f}")
            ax.set_ylim(-1, top * 1.5)
            if r == 0:
                ax.set_title(_title(method))
            if c == 0:
                ax.set_ylabel(f"{transform}\nMI estimate (nats)")
            if r == len(transforms) - 1:
                ax.set_xlabel("step")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), frameon=False)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fig
