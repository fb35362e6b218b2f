"""PCA: the leading principal axes of a training subset (float64 eigendecomposition of the covariance)."""

from __future__ import annotations

import dataclasses

import numpy as np
import torch


def check_latent_dim(latent_dim, d: int, key: str = "latent_dim") -> int:
    """``latent_dim`` as an int in [1, d], else a ValueError naming ``key`` and the representation size."""
    if isinstance(latent_dim, bool) or int(latent_dim) != latent_dim or not 1 <= int(latent_dim) <= d:
        raise ValueError(f"{key}={latent_dim!r}: a compressor's latent dimension must lie in [1, {d}], the size of "
                         f"the representation it compresses")  # fmt: skip
    return int(latent_dim)


def _as_float64(x) -> torch.Tensor:
    t = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x).detach().cpu()
    return t.reshape(t.shape[0], -1).to(torch.float64)


def relative_error(x: torch.Tensor, x_hat: torch.Tensor) -> float:
    """Mean squared reconstruction error over the total variance of x (0: exact; 1: as good as the mean)."""
    var = float(((x - x.mean(dim=0)) ** 2).sum())
    return float(((x - x_hat) ** 2).sum()) / var if var > 0 else 0.0


@dataclasses.dataclass
class PCACompressor:
    """x (n, d) -> (x - mean) @ axes, (n, latent_dim); decode: z @ axes.T + mean."""

    mean: torch.Tensor  # (d,)
    axes: torch.Tensor  # (d, latent_dim), columns by decreasing variance
    report: dict

    @property
    def latent_dim(self) -> int:
        return self.axes.shape[1]

    def encode(self, x) -> torch.Tensor:
        return (_as_float64(x) - self.mean) @ self.axes

    def decode(self, z) -> torch.Tensor:
        return torch.as_tensor(z, dtype=torch.float64) @ self.axes.T + self.mean

    def save(self, path) -> None:
        torch.save({"kind": "pca", "mean": self.mean, "axes": self.axes, "report": self.report}, path)

    @classmethod
    def from_blob(cls, blob: dict) -> PCACompressor:
        return cls(blob["mean"], blob["axes"], blob["report"])


def fit_pca(x, latent_dim: int, seed: int = 0, max_samples: int | None = None) -> PCACompressor:
    """Fit PCA on x: (n, d) (any trailing shape is flattened), on a seeded subset of ``max_samples`` rows if given."""
    x = _as_float64(x)
    latent_dim = check_latent_dim(latent_dim, x.shape[1])
    if max_samples is not None and max_samples < x.shape[0]:
        g = torch.Generator().manual_seed(int(seed))
        x = x[torch.randperm(x.shape[0], generator=g)[:max_samples]]
    mean = x.mean(dim=0)
    xc = x - mean
    vals, vecs = torch.linalg.eigh(xc.T @ xc / x.shape[0])
    axes = vecs[:, -latent_dim:].flip(1).contiguous()
    # a deterministic sign: the largest loading of every axis is positive
    signs = torch.sign(axes.gather(0, axes.abs().argmax(dim=0, keepdim=True)))
    axes = axes * torch.where(signs == 0, torch.ones_like(signs), signs)
    kept = float(vals[-latent_dim:].sum() / vals.sum()) if float(vals.sum()) > 0 else 1.0
    c = PCACompressor(mean, axes, {})
    c.report = {
        "kind": "pca",
        "latent_dim": latent_dim,
        "input_dim": int(x.shape[1]),
        "n_fit": int(x.shape[0]),
        "explained_variance": kept,
        "relative_error": relative_error(x, c.decode(c.encode(x))),
        "converged": True,
    }
    return c
