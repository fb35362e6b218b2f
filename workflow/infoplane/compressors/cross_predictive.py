"""A cross-predictive autoencoder: paired codes of X and Y that keep what the two share.

The idea is latentmi's (Gowri, Lun, Klein & Yin 2024, "Approximating mutual information of
high-dimensional variables using learned representations", NeurIPS): one MLP encoder per side maps
x to a code zx and y to zy; each code reconstructs its own side (an autoencoder keeps the side's
manifold) and, through a decoder with dropout, predicts the *other* side (so what X and Y share is
what the codes are pushed to keep first). KSG on the codes then estimates I(zx; zy) <= I(X; Y)
(data processing), equal to it when the codes keep the shared information.

What this implementation does (its own code; latentmi's choices in brackets):

- Per side, on the fit rows only: constant columns dropped, columns standardised and clipped to
  +-10 [the same], then projected on at most ``pca_dim`` leading principal components (scaled by one
  number, so that their variances keep their ratios) [no projection; 1024-wide layers instead]. The
  projection makes the first and last layers small (at 500 ambient coordinates and 64 components
  5-8x fewer operations) and, for data near a manifold of a few dimensions, keeps it injective in
  practice; ``pca_dim=None`` keeps every column.
- Encoders ``d -> hidden -> hidden/2 -> latent_dim``, decoders the mirror, LeakyReLU(0.2) [1024 ->
  512 -> 256 -> 8 with a LeakyReLU on the code too]; cross decoders with dropout ``dropout`` before
  every layer [0.5]. Loss: reconstruction + ``cross_weight`` x cross-prediction, both mean squared
  errors of the standardised targets [weights 1 and 1].
- Adam, ``lr`` 3e-3 [1e-4], ``batch_size`` 512 [512], at most ``epochs`` [300], early stopping after
  ``patience`` [30] epochs without a lower loss on a held-out ``val_fraction`` of the fit rows, and
  the weights of the best epoch are restored. [latentmi stops on the rows it then estimates on, and
  keeps a reference to the state dict rather than a copy, so it restores the last weights.]

After training, the held-out relative errors (mean squared error / total variance, of the projected
data) of the reconstructions and of the cross-predictions go in ``report``. The reconstruction errors
decide ``converged``: above ``max_relative_error`` on either side the fit warns and says converged:
false. A cross-prediction error near 1 is not a failure: it is what independent X and Y give.

Deterministic given ``seed`` on CPU (and for a given device otherwise); float32 throughout.
The pair is not in :data:`infoplane.compressors.COMPRESSORS`, whose ``fit_compressor(kind, x, ...)``
fits one variable: it needs (x, y) pairs and encodes both. It saves and loads on its own
(:meth:`CrossPredictiveCompressor.save`, :func:`load_cross_predictive`).
"""

from __future__ import annotations

import copy
import dataclasses
import time
import warnings

import numpy as np
import torch
from torch import nn

from .pca import check_latent_dim

CLIP = 10.0


def _as_float(a, name: str) -> torch.Tensor:
    t = torch.as_tensor(np.asarray(a) if not isinstance(a, torch.Tensor) else a).detach()
    if t.ndim == 1:
        t = t[:, None]
    if t.ndim != 2:
        t = t.reshape(t.shape[0], -1)
    if not torch.is_floating_point(t):
        t = t.to(torch.float64)
    if not torch.isfinite(t).all():
        raise ValueError(f"{name} contains {int((~torch.isfinite(t)).sum())} non-finite values (NaN or inf)")
    return t


@dataclasses.dataclass
class SidePrep:
    """Fitted preprocessing of one side: keep columns, standardise, clip, project on principal axes, scale."""

    keep: torch.Tensor  # (d_kept,) int64 column indices
    mean: torch.Tensor  # (d_kept,)
    std: torch.Tensor  # (d_kept,)
    axes: torch.Tensor | None  # (d_kept, p) or None (no projection)
    scale: float

    @property
    def dim(self) -> int:
        return int(self.axes.shape[1]) if self.axes is not None else int(self.keep.numel())

    def __call__(self, a: torch.Tensor) -> torch.Tensor:
        a = a.to(torch.float64)[:, self.keep.to(a.device)]
        a = ((a - self.mean.to(a.device)) / self.std.to(a.device)).clamp(-CLIP, CLIP)
        if self.axes is not None:
            a = a @ self.axes.to(a.device)
        return (a / self.scale).to(torch.float32)

    def blob(self) -> dict:
        return {"keep": self.keep, "mean": self.mean, "std": self.std, "axes": self.axes, "scale": self.scale}


def fit_side_prep(a: torch.Tensor, pca_dim: int | None, name: str) -> SidePrep:
    """Fit :class:`SidePrep` on the fit rows a: (n, d); raises when every column is constant."""
    a = a.detach().to(device="cpu", dtype=torch.float64)
    std = a.std(dim=0, unbiased=False)
    keep = torch.nonzero(std > 1e-12 * (1.0 + a.abs().amax(dim=0))).flatten()
    if keep.numel() == 0:
        raise ValueError(f"{name} is constant on the fit rows (every column): nothing to compress")
    a = a[:, keep]
    mean, std = a.mean(dim=0), std[keep]
    z = ((a - mean) / std).clamp(-CLIP, CLIP)
    axes = None
    if pca_dim is not None and z.shape[1] > pca_dim:
        zc = z - z.mean(dim=0)
        vals, vecs = torch.linalg.eigh(zc.T @ zc / z.shape[0])
        axes = vecs[:, -pca_dim:].flip(1).contiguous()
        signs = torch.sign(axes.gather(0, axes.abs().argmax(dim=0, keepdim=True)))
        axes = axes * torch.where(signs == 0, torch.ones_like(signs), signs)
        z = z @ axes
    scale = float(z.std(dim=0, unbiased=False).pow(2).mean().sqrt()) or 1.0
    return SidePrep(keep, mean, std, axes, scale)


def _mlp(sizes: list[int], dropout: float = 0.0) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.LeakyReLU(0.2))
    return nn.Sequential(*layers)


class CrossPredictiveAE(nn.Module):
    """Encoders x -> zx, y -> zy; decoders zx -> x, zy -> y; cross decoders zx -> y, zy -> x (with dropout)."""

    def __init__(self, dx: int, dy: int, latent_x: int, latent_y: int, hidden: int = 256, dropout: float = 0.5):
        super().__init__()
        h, h2 = int(hidden), max(int(hidden) // 2, 1)
        self.enc_x, self.enc_y = _mlp([dx, h, h2, latent_x]), _mlp([dy, h, h2, latent_y])
        self.dec_x, self.dec_y = _mlp([latent_x, h2, h, dx]), _mlp([latent_y, h2, h, dy])
        self.cross_y, self.cross_x = _mlp([latent_x, h2, h, dy], dropout), _mlp([latent_y, h2, h, dx], dropout)

    def losses(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Mean squared errors (per element): reconstruction of x, of y; cross-prediction of y from zx, of x from zy."""
        zx, zy = self.enc_x(x), self.enc_y(y)
        mse = nn.functional.mse_loss
        return mse(self.dec_x(zx), x), mse(self.dec_y(zy), y), mse(self.cross_y(zx), y), mse(self.cross_x(zy), x)


@dataclasses.dataclass
class CrossPredictiveCompressor:
    """Paired codes: :meth:`encode` (x, y) -> (zx, zy), float64 (n, latent_dim_x) and (n, latent_dim_y)."""

    model: CrossPredictiveAE
    prep_x: SidePrep
    prep_y: SidePrep
    config: dict
    report: dict

    @torch.no_grad()
    def encode_x(self, x, batch_size: int = 4096) -> torch.Tensor:
        return self._encode(self.model.enc_x, self.prep_x, _as_float(x, "x"), batch_size)

    @torch.no_grad()
    def encode_y(self, y, batch_size: int = 4096) -> torch.Tensor:
        return self._encode(self.model.enc_y, self.prep_y, _as_float(y, "y"), batch_size)

    def encode(self, x, y) -> tuple[torch.Tensor, torch.Tensor]:
        return self.encode_x(x), self.encode_y(y)

    def _encode(self, net: nn.Module, prep: SidePrep, a: torch.Tensor, batch_size: int) -> torch.Tensor:
        self.model.eval()
        dev = next(self.model.parameters()).device
        out = [net(prep(a[i : i + batch_size].to(dev))) for i in range(0, a.shape[0], batch_size)]
        return torch.cat(out).to(torch.float64)

    def save(self, path) -> None:
        torch.save({"kind": "cross_predictive", "config": self.config, "prep_x": self.prep_x.blob(),
                    "prep_y": self.prep_y.blob(), "state": self.model.cpu().state_dict(),
                    "report": self.report}, path)  # fmt: skip


def load_cross_predictive(path) -> CrossPredictiveCompressor:
    """Load what :meth:`CrossPredictiveCompressor.save` wrote (torch.load with weights_only=True), on CPU."""
    blob = torch.load(path, map_location="cpu", weights_only=True)
    if blob.get("kind") != "cross_predictive":
        raise ValueError(f"{path}: not a saved cross-predictive compressor (kind {blob.get('kind')!r})")
    cfg = blob["config"]
    model = CrossPredictiveAE(cfg["dim_x"], cfg["dim_y"], cfg["latent_dim_x"], cfg["latent_dim_y"], cfg["hidden"],
                              cfg["dropout"])  # fmt: skip
    model.load_state_dict(blob["state"])
    return CrossPredictiveCompressor(model, SidePrep(**blob["prep_x"]), SidePrep(**blob["prep_y"]), cfg, blob["report"])


def _relative(sse: float, total: float) -> float:
    return sse / total if total > 0 else 0.0


def fit_cross_predictive(
    x,
    y,
    latent_dim: int,
    latent_dim_y: int | None = None,
    seed: int = 0,
    hidden: int = 256,
    pca_dim: int | None = 64,
    dropout: float = 0.5,
    cross_weight: float = 1.0,
    epochs: int = 200,
    patience: int = 10,
    batch_size: int = 512,
    lr: float = 3e-3,
    val_fraction: float = 0.2,
    max_relative_error: float = 0.2,
    device="cpu",
    log=None,
) -> CrossPredictiveCompressor:
    """Fit the cross-predictive autoencoder on paired rows x: (n, dx), y: (n, dy); codes of ``latent_dim``
    (x) and ``latent_dim_y`` (y; default ``latent_dim``) coordinates. Seeded by ``seed``.

    A seeded ``val_fraction`` of the rows is held out for early stopping and for the errors of
    ``report``; above ``max_relative_error`` (either reconstruction) a warning names that key and the
    report says converged: false. log: a callable taking one line of text per epoch, or None.
    """
    start = time.perf_counter()
    x, y = _as_float(x, "x"), _as_float(y, "y")
    n = x.shape[0]
    if y.shape[0] != n:
        raise ValueError(f"x and y must have the same number of rows, got {n} and {y.shape[0]}")
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must lie strictly between 0 and 1, got {val_fraction}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must lie in [0, 1), got {dropout}")
    if not cross_weight >= 0:
        raise ValueError(f"cross_weight must be >= 0, got {cross_weight}")
    n_val = int(round(val_fraction * n))
    if n_val < 8 or n - n_val < 16:
        raise ValueError(f"the cross-predictive autoencoder needs >= 16 training and 8 held-out rows, got n={n}")
    dev = torch.device(device)
    prep_x, prep_y = fit_side_prep(x, pca_dim, "x"), fit_side_prep(y, pca_dim, "y")
    latent_x = check_latent_dim(latent_dim, prep_x.dim, "latent_dim")
    latent_y = check_latent_dim(latent_x if latent_dim_y is None else latent_dim_y, prep_y.dim, "latent_dim_y")
    xs, ys = prep_x(x.cpu()).to(dev), prep_y(y.cpu()).to(dev)
    g = torch.Generator().manual_seed(int(seed))
    perm = torch.randperm(n, generator=g)
    val, train = perm[:n_val].to(dev), perm[n_val:]
    devices = [dev] if dev.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(int(seed))
        model = CrossPredictiveAE(prep_x.dim, prep_y.dim, latent_x, latent_y, hidden, dropout).to(dev)
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        best, best_state, stale, history = float("inf"), None, 0, []
        for epoch in range(int(epochs)):
            model.train()
            order = train[torch.randperm(len(train), generator=g)].to(dev)
            for i in range(0, len(order), batch_size):
                rows = order[i : i + batch_size]
                rx, ry, cy, cx = model.losses(xs[rows], ys[rows])
                loss = rx + ry + cross_weight * (cy + cx)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
            model.eval()
            with torch.no_grad():
                rx, ry, cy, cx = (float(v) for v in model.losses(xs[val], ys[val]))
            val_loss = rx + ry + cross_weight * (cy + cx)
            history.append(val_loss)
            if log is not None:
                log(f"epoch {epoch + 1}/{epochs}: held-out loss {val_loss:.4g} (reconstruction {rx:.3g}, {ry:.3g}; "
                    f"cross {cy:.3g}, {cx:.3g})")  # fmt: skip
            if val_loss < best - 1e-6 * abs(best if best < float("inf") else 0.0):
                best, best_state, stale = val_loss, copy.deepcopy(model.state_dict()), 0
            else:
                stale += 1
                if stale >= patience:
                    break
    stopped_early = stale >= patience
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    with torch.no_grad():
        xv, yv = xs[val].double(), ys[val].double()
        zx, zy = model.enc_x(xs[val]), model.enc_y(ys[val])
        tot_x, tot_y = float(((xv - xv.mean(0)) ** 2).sum()), float(((yv - yv.mean(0)) ** 2).sum())
        err = {
            "reconstruction_error_x": _relative(float(((model.dec_x(zx).double() - xv) ** 2).sum()), tot_x),
            "reconstruction_error_y": _relative(float(((model.dec_y(zy).double() - yv) ** 2).sum()), tot_y),
            "cross_error_x": _relative(float(((model.cross_x(zy).double() - xv) ** 2).sum()), tot_x),
            "cross_error_y": _relative(float(((model.cross_y(zx).double() - yv) ** 2).sum()), tot_y),
        }
    converged = max(err["reconstruction_error_x"], err["reconstruction_error_y"]) <= max_relative_error
    config = {"dim_x": prep_x.dim, "dim_y": prep_y.dim, "latent_dim_x": latent_x, "latent_dim_y": latent_y,
              "hidden": int(hidden), "pca_dim": pca_dim, "dropout": float(dropout),
              "cross_weight": float(cross_weight), "epochs": int(epochs), "patience": int(patience),
              "batch_size": int(batch_size), "lr": float(lr), "val_fraction": float(val_fraction),
              "seed": int(seed)}  # fmt: skip
    report = {"kind": "cross_predictive", "latent_dim_x": latent_x, "latent_dim_y": latent_y,
              "input_dim_x": int(x.shape[1]), "input_dim_y": int(y.shape[1]), "kept_dim_x": prep_x.dim,
              "kept_dim_y": prep_y.dim, "n_fit": len(train), "n_val": n_val, **err,
              "max_relative_error": float(max_relative_error), "converged": converged,
              "epochs_run": len(history), "best_epoch": int(np.argmin(history)) + 1 if history else 0,
              "stopped_early": stopped_early, "seconds": time.perf_counter() - start,
              "history": history}  # fmt: skip
    if not converged:
        warnings.warn(
            f"the cross-predictive autoencoder did not converge: held-out relative reconstruction errors "
            f"{err['reconstruction_error_x']:.3g} (x), {err['reconstruction_error_y']:.3g} (y) > "
            f"max_relative_error={max_relative_error} after {len(history)} epochs (raise epochs, hidden or latent_dim)",
            stacklevel=2,
        )
    return CrossPredictiveCompressor(model, prep_x, prep_y, config, report)


__all__ = ["CrossPredictiveAE", "CrossPredictiveCompressor", "fit_cross_predictive", "load_cross_predictive"]
