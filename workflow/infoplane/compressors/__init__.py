"""Compressors: fit once, save, load, encode. They know nothing of estimators.

A compressor maps (n, d) floats to (n, latent_dim) codes and back, and reports how well it
reconstructs (``report``: relative reconstruction error = mean squared error / total variance,
and whether it converged). It is its own artifact (``results/compressors/...``), fitted once and
reused by every estimate that names it:

    >>> c = fit_compressor("pca", x_train, latent_dim=4, seed=0)
    >>> c.save("results/compressors/task/pca4.pt"); z = load_compressor("results/compressors/task/pca4.pt").encode(x)

Butakov et al. (2024) compress inputs with an autoencoder and layers with PCA before estimating
MI with a kNN estimator: the estimate is then of I(f(X); g(Y)) <= I(X;Y) (data processing), equal
to it when the codes keep what X and Y share.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from .autoencoder import AutoencoderCompressor, fit_autoencoder
from .pca import PCACompressor, check_latent_dim, fit_pca

COMPRESSORS: dict[str, Callable[..., object]] = {"pca": fit_pca, "autoencoder": fit_autoencoder}
KINDS = {"pca": PCACompressor, "autoencoder": AutoencoderCompressor}

__all__ = ["COMPRESSORS", "check_latent_dim", "fit_compressor", "load_compressor"]


def fit_compressor(kind: str, x, latent_dim: int, seed: int = 0, **params):
    """Fit the compressor ``kind`` (``pca`` or ``autoencoder``) on x: (n, d) floats, to ``latent_dim``."""
    if kind not in COMPRESSORS:
        raise ValueError(f"compressor must be one of {sorted(COMPRESSORS)}, got {kind!r}")
    return COMPRESSORS[kind](x, latent_dim=latent_dim, seed=seed, **params)


def load_compressor(path):
    """Load a compressor saved by its ``save`` (torch.load with weights_only=True)."""
    blob = torch.load(path, map_location="cpu", weights_only=True)
    kind = blob.get("kind")
    if kind not in KINDS:
        raise ValueError(f"{path}: not a saved compressor (kind {kind!r})")
    return KINDS[kind].from_blob(blob)
