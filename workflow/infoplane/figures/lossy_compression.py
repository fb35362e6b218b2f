"""The lossy-compression benchmark figure: estimated against true MI, one panel per image family
and source, one line per pipeline (mean over seeds, bars: the mean of the per-seed 95% intervals),
the diagonal and the max(0.25 bits, 15%) tolerance band of the claims."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..claims.lossy_compression import ABS_BITS, REL


def accuracy_figure(table: pd.DataFrame):
    import matplotlib.pyplot as plt

    panels = sorted(table.groupby(["family", "source"]).groups)
    fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 4.2), squeeze=False)
    top = float(table["true_mi_bits"].max())
    grid = np.linspace(0, top, 100)
    tol = np.maximum(ABS_BITS, REL * grid)
    for ax, (family, source) in zip(axes[0], panels, strict=True):
        ax.fill_between(grid, grid - tol, grid + tol, color="0.9", label="tolerance")
        ax.plot(grid, grid, color="0.4", lw=1, ls="--", label="truth")
        sub = table[(table["family"] == family) & (table["source"] == source)]
        for pipeline, g in sub.groupby("pipeline", sort=True):
            m = g.groupby("true_mi_bits")[["mi_bits", "ci_low_bits", "ci_high_bits"]].mean()
            err = np.vstack([m["mi_bits"] - m["ci_low_bits"], m["ci_high_bits"] - m["mi_bits"]]).clip(min=0)
            ax.errorbar(m.index, m["mi_bits"], yerr=err, marker="o", ms=3, capsize=2, label=pipeline)
        ax.set(title=f"{family} ({source})", xlabel="true I(X;Y) [bits]", ylabel="estimate [bits]")
    axes[0][-1].legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return fig
