"""A small convolutional autoencoder for images: trained once, seeded, and honest about its fit.

Encoder: two blocks of 3x3 convolution, LeakyReLU and 2x2 max-pooling, then dense layers to the
latent code; decoder: dense layers back to the pixels. The data are standardised by one scalar
mean and std (so pixel ratios are kept). After training, the relative reconstruction error (mean
squared error / total variance) on a held-out tenth of the data decides ``converged``: above
``max_relative_error`` the compressor warns and its report says converged: false, so a table
built through it can say so rather than estimate through it silently.
"""

from __future__ import annotations

import dataclasses
import math
import warnings

import torch
from torch import nn

from .pca import _as_float64, check_latent_dim, relative_error


def image_side(d: int, image_shape=None, key: str = "image_shape") -> tuple[int, int]:
    """(height, width) of flattened images of d pixels: ``image_shape`` or the square; both divisible by 4."""
    if image_shape is None:
        side = math.isqrt(d)
        if side * side != d:
            raise ValueError(f"{key}: {d} features are not a square image; give the image shape")
        image_shape = (side, side)
    h, w = (int(s) for s in image_shape)
    if h * w != d:
        raise ValueError(f"{key}={list(image_shape)} has {h * w} pixels, the data {d} features")
    if h % 4 or w % 4 or h < 4 or w < 4:
        raise ValueError(f"{key}={[h, w]}: the autoencoder's two 2x2 poolings need sides divisible by 4")
    return h, w


class ConvAutoencoder(nn.Module):
    def __init__(self, shape: tuple[int, int], latent_dim: int, channels=(8, 16), hidden: int = 128):
        super().__init__()
        h, w = shape
        c1, c2 = (int(c) for c in channels)
        self.shape = (h, w)
        self.encoder = nn.Sequential(
            nn.Conv2d(1, c1, 3, padding=1), nn.LeakyReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 3, padding=1), nn.LeakyReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(c2 * (h // 4) * (w // 4), hidden), nn.LeakyReLU(), nn.Linear(hidden, latent_dim),
        )  # fmt: skip
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, hidden), nn.LeakyReLU(), nn.Linear(hidden, 2 * hidden), nn.LeakyReLU(),
            nn.Linear(2 * hidden, h * w),
        )  # fmt: skip

    def encode(self, x: torch.Tensor) -> torch.Tensor:  # x: (n, h*w)
        return self.encoder(x.reshape(-1, 1, *self.shape))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encode(x))


@dataclasses.dataclass
class AutoencoderCompressor:
    """x (n, h*w) -> (n, latent_dim) codes; decode gives (n, h*w) reconstructions."""

    model: ConvAutoencoder
    config: dict
    centre: float
    scale: float
    report: dict

    @property
    def latent_dim(self) -> int:
        return int(self.config["latent_dim"])

    @torch.no_grad()
    def encode(self, x, batch_size: int = 2048) -> torch.Tensor:
        x = (_as_float64(x).to(torch.float32) - self.centre) / self.scale
        self.model.eval()
        return torch.cat([self.model.encode(x[i : i + batch_size]) for i in range(0, len(x), batch_size)]).double()

    @torch.no_grad()
    def decode(self, z) -> torch.Tensor:
        self.model.eval()
        out = self.model.decoder(torch.as_tensor(z, dtype=torch.float32))
        return out.double() * self.scale + self.centre

    def save(self, path) -> None:
        blob = {"kind": "autoencoder", "config": self.config, "centre": self.centre, "scale": self.scale}
        torch.save({**blob, "state": self.model.state_dict(), "report": self.report}, path)

    @classmethod
    def from_blob(cls, blob: dict) -> AutoencoderCompressor:
        cfg = blob["config"]
        model = ConvAutoencoder(tuple(cfg["shape"]), cfg["latent_dim"], cfg["channels"], cfg["hidden"])
        model.load_state_dict(blob["state"])
        return cls(model, cfg, blob["centre"], blob["scale"], blob["report"])


def fit_autoencoder(
    x,
    latent_dim: int,
    seed: int = 0,
    image_shape=None,
    channels=(8, 16),
    hidden: int = 128,
    epochs: int = 30,
    batch_size: int = 128,
    lr: float = 1e-3,
    max_relative_error: float = 0.05,
    log=None,
) -> AutoencoderCompressor:
    """Train the autoencoder on x: (n, h*w) or (n, h, w) images, to ``latent_dim``; seeded by ``seed``.

    A tenth of the rows (seeded) is held out to measure the relative reconstruction error; above
    ``max_relative_error`` a warning names that key and the report says converged: false.
    log: a callable taking one line of text (the loss every epoch), or None.
    """
    x = _as_float64(x)
    shape = image_side(x.shape[1], image_shape)
    latent_dim = check_latent_dim(latent_dim, x.shape[1])
    g = torch.Generator().manual_seed(int(seed))
    perm = torch.randperm(x.shape[0], generator=g)
    n_val = max(1, x.shape[0] // 10)
    centre, scale = float(x.mean()), float(x.std()) or 1.0
    xs = ((x - centre) / scale).to(torch.float32)
    train, val = xs[perm[n_val:]], xs[perm[:n_val]]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        model = ConvAutoencoder(shape, latent_dim, channels, hidden)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    history = []
    for epoch in range(int(epochs)):
        model.train()
        order = torch.randperm(len(train), generator=g)
        total = 0.0
        for i in range(0, len(train), batch_size):
            batch = train[order[i : i + batch_size]]
            loss = nn.functional.mse_loss(model(batch), batch)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(batch)
        model.eval()
        with torch.no_grad():
            val_err = relative_error(val.double(), model(val).double())
        history.append(val_err)
        if log is not None:
            log(
                f"epoch {epoch + 1}/{epochs}: train mse {total / len(train):.4g}, held-out relative error {val_err:.4g}"
            )
    final = history[-1] if history else 1.0
    converged = final <= max_relative_error
    config = {"shape": list(shape), "latent_dim": latent_dim, "channels": [int(c) for c in channels],
              "hidden": int(hidden), "epochs": int(epochs), "batch_size": int(batch_size), "lr": float(lr),
              "seed": int(seed)}  # fmt: skip
    report = {"kind": "autoencoder", "latent_dim": latent_dim, "input_dim": int(x.shape[1]), "n_fit": len(train),
              "relative_error": final, "max_relative_error": float(max_relative_error), "converged": converged,
              "history": history}  # fmt: skip
    if not converged:
        warnings.warn(
            f"the autoencoder did not converge: held-out relative reconstruction error {final:.3g} > "
            f"max_relative_error={max_relative_error} after {epochs} epochs (raise epochs or latent_dim)",
            stacklevel=2,
        )
    return AutoencoderCompressor(model, config, centre, scale, report)
