"""Compression before estimation: project each variable on its leading principal components, then
estimate MI in the small space with a kNN estimator.

Butakov, Tolmachev, Malanchuk, Neopryatnaya, Frolov & Andreev (2024), "Information bottleneck
analysis of deep neural networks via lossy compression", ICLR: kNN estimators fail in hundreds of
dimensions, but activations and inputs lie near low-dimensional manifolds, so compress first (the
paper uses autoencoders; PCA is the linear case). By data processing, I(PX; PY) <= I(X;Y): the
estimate targets the MI of the compressed variables, which equals I(X;Y) when the dependence lives
in the kept components.
"""

from __future__ import annotations

import torch

from .base import check_positive_int, is_labels, register
from .intervals import centre_on_subsample_mean
from .knn import ksg_mi_bits


def pca_project(a: torch.Tensor, components: int) -> torch.Tensor:
    """(n, d) -> (n, min(components, d)) scores on the leading principal components (float64 SVD)."""
    components = check_positive_int(components, "components")
    a = a.to(torch.float64)
    a = a - a.mean(dim=0, keepdim=True)
    if a.shape[1] <= components:
        return a
    # Principal axes from the (d, d) covariance: cheap for n >> d, and deterministic.
    cov = a.T @ a / a.shape[0]
    _, vecs = torch.linalg.eigh(cov)
    return a @ vecs[:, -components:].flip(1)


@register("pca_ksg", ci="subsample", labels_ok=True)
def pca_ksg_mi_bits(
    x: torch.Tensor,
    y: torch.Tensor,
    components: int = 8,
    components_y: int | None = None,
    k: int = 3,
    algorithm: int = 1,
    metric: str = "chebyshev",
    standardize: bool = True,
    noise: float = 0.0,
    precision: str = "float32",
    seed: int = 0,
    chunk_size: int | None = None,
) -> float:
    """KSG on principal-component projections, in bits (Butakov et al. 2024, with PCA for the autoencoder).

    x: (n, dx) -> its first ``components`` principal components; y: (n, dy) -> ``components_y``
    (default: ``components``), or (n,) labels kept as they are (the Ross mixed estimator then).
    Other parameters: :func:`infoplane.estimators.knn.ksg_mi_bits`.
    """
    xp = pca_project(x, components)
    yp = y if is_labels(y) else pca_project(y, components if components_y is None else components_y)
    return ksg_mi_bits(xp, yp, k=k, algorithm=algorithm, metric=metric, standardize=standardize, noise=noise,
                       precision=precision, seed=seed, chunk_size=chunk_size)  # fmt: skip


@register("pca_wkl", ci="subsample", labels_ok=True)
@centre_on_subsample_mean
def pca_wkl_mi_bits(
    x: torch.Tensor,
    y: torch.Tensor,
    components: int = 4,
    components_y: int | None = None,
    k: int = 5,
    whitened: bool = True,
    noise: float = 0.0,
    seed: int = 0,
    chunk_size: int | None = None,
) -> float:
    """Weighted Kozachenko-Leonenko MI on principal-component projections, in bits (Butakov et al. 2024:
    every layer by PCA to 4 dimensions, then WKL with k = 5 on whitened data).

    x: (n, dx) -> its first ``components`` principal components; y: (n, dy) -> ``components_y``
    (default: ``components``), or (n,) labels kept as they are. Other parameters:
    :func:`infoplane.estimators.wkl.wkl_mi_bits`. A preset may also name ``x_compressor`` (an
    autoencoder or PCA fitted once on the dataset's inputs, its own artifact): X is then replaced by
    its codes before this runs, and its PCA here keeps them as they are when they are few enough.
    """
    from .wkl import wkl_mi_bits

    xp = pca_project(x, components)
    yp = y if is_labels(y) else pca_project(y, components if components_y is None else components_y)
    return wkl_mi_bits(xp, yp, k=k, whitened=whitened, noise=noise, seed=seed, chunk_size=chunk_size)
