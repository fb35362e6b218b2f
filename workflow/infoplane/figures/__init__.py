"""Figures: a registry of functions (mi, metrics) -> matplotlib Figure. A new figure is one function and one line."""

from __future__ import annotations

from collections.abc import Callable

from .compression import compression_figure, generalisation_figure
from .curves import gradients_figure, training_figure
from .hoffer2017 import diffusion_figure, regime_accuracy_figure
from .ib_generalisation import ib_generalisation_figure
from .infoplane import infoplane_figure
from .mi_epochs import mi_epochs_figure

FIGURES: dict[str, Callable] = {
    "infoplane": infoplane_figure,
    "gradients": gradients_figure,
    "training": training_figure,
    "compression": compression_figure,
    "generalisation": generalisation_figure,
    "ib_generalisation": ib_generalisation_figure,  # reads the per-model table too (its .tables)
    "diffusion": diffusion_figure,  # reads the distance table (its .tables)
    "regime_accuracy": regime_accuracy_figure,
    "mi_epochs": mi_epochs_figure,  # I(X;L), I(L;Y) over epochs beside the test loss (Butakov et al. 2024)
}


def save_figure(fig, png_path, pdf_path=None) -> None:
    """Write the figure as PNG (and PDF when asked) and close it."""
    import matplotlib.pyplot as plt

    fig.savefig(png_path, dpi=130)
    if pdf_path is not None:
        fig.savefig(pdf_path)
    plt.close(fig)
