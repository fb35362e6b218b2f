"""Stochastic encoders: layers that output a Gaussian and sample from it (Kawaguchi et al. 2023).

A :class:`GaussianLayer` maps its input h to a mean ``loc = act(W_mu h + b_mu)`` and a standard
deviation ``scale = softplus(W_s h + b_s) + min_scale`` (one linear map of 2 x ``units`` outputs,
so the layer has one ``.weight``), then samples z = loc + scale * eps, eps ~ N(0, I), by
reparameterisation, in training and in evaluation alike: the representation Z of X is random, and
I(X;Z) is finite and computable from (loc, scale) (:mod:`infoplane.estimators.stochastic`).
A linear head maps the last z to the class logits.

The noise comes from torch's global generator: training checkpoints keep its state and replay
seeds it before every epoch, so a run and its replay are reproducible.

Protocol (``infoplane.models``): ``forward(x)`` returns [T_1, ..., T_L] (conv feature maps
flattened, then the sampled z of every stochastic layer, then the softmax), ``logits(x)``, and
``layers``. Stochastic models add ``forward_gaussians(x) -> (outputs, {layer number: (loc,
scale)})`` (layer numbers from 1, as ``layer{l}`` in the activations store), from one draw of the
noise, which extraction writes beside the activations.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .mlp import ACTIVATIONS


class GaussianLayer(nn.Module):
    """Linear map to (loc, scale) of ``units`` Gaussians; forward samples z. in: (n, d_in), out: (n, units)."""

    def __init__(self, in_features: int, units: int, activation: str = "relu", min_scale: float = 1e-4):
        super().__init__()
        self.units = units
        self.linear = nn.Linear(in_features, 2 * units)
        act = ACTIVATIONS[activation]
        self.activation = act() if act is not None else nn.Identity()
        self.min_scale = float(min_scale)

    @property
    def weight(self) -> torch.Tensor:
        return self.linear.weight

    def gaussian(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(loc, scale), each (n, units)."""
        pre = self.linear(h)
        loc = self.activation(pre[:, : self.units])
        scale = nn.functional.softplus(pre[:, self.units :]) + self.min_scale
        return loc, scale

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        loc, scale = self.gaussian(h)
        return loc + scale * torch.randn_like(loc)


def _init_linear(layer: nn.Linear) -> None:
    std = 1.0 / math.sqrt(layer.in_features)
    nn.init.trunc_normal_(layer.weight, std=std, a=-2 * std, b=2 * std)
    nn.init.zeros_(layer.bias)


class StochasticMLP(nn.Module):
    """``n_inputs`` -> Gaussian layers of widths ``hidden`` -> linear head -> ``n_classes``.

    ``features``: optional deterministic layers before the Gaussian ones (the conv form), each a
    module with ``.weight`` whose output is flattened for capture.
    """

    def __init__(
        self,
        n_inputs: int,
        hidden: list[int],
        n_classes: int,
        activation: str = "relu",
        features: list[nn.Module] | None = None,
        feature_shape: tuple[int, ...] | None = None,
    ):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; known: {sorted(ACTIVATIONS)}")
        features = features or []
        self.n_features = len(features)
        self.feature_shape = feature_shape  # input reshaped to this before the feature layers
        self.feature_activation = nn.ReLU()
        widths = [n_inputs, *hidden]
        gaussians = [GaussianLayer(a, b, activation) for a, b in zip(widths[:-1], widths[1:], strict=True)]
        head = nn.Linear(widths[-1], n_classes)
        self.layers = nn.ModuleList([*features, *gaussians, head])
        for layer in self.layers[self.n_features :]:
            _init_linear(layer.linear if isinstance(layer, GaussianLayer) else layer)

    def forward_gaussians(self, x: torch.Tensor) -> tuple[list[torch.Tensor], dict[int, tuple]]:
        """Every layer's output (the last being logits) and {layer number: (loc, scale)} of the Gaussian layers."""
        outs, params = [], {}
        h = x if self.feature_shape is None else x.reshape(x.shape[0], *self.feature_shape)
        for layer in self.layers[: self.n_features]:
            h = self.feature_activation(layer(h))
            outs.append(h.flatten(1))
        h = h.flatten(1)
        for i, layer in enumerate(self.layers[self.n_features : -1], start=self.n_features + 1):
            loc, scale = layer.gaussian(h)
            h = loc + scale * torch.randn_like(loc)
            outs.append(h)
            params[i] = (loc, scale)
        outs.append(self.layers[-1](h))
        return outs, params

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_gaussians(x)[0][-1]

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        outs = self.forward_gaussians(x)[0]
        outs[-1] = torch.softmax(outs[-1], dim=-1)
        return outs

    @property
    def n_layers(self) -> int:
        return len(self.layers)


def square_side(n_inputs: int) -> int:
    """The side of a square one-channel image of ``n_inputs`` pixels (64 -> 8, 784 -> 28)."""
    side = math.isqrt(n_inputs)
    if side * side != n_inputs:
        raise ValueError(f"stochastic_conv needs square images: {n_inputs} features are not a square number")
    return side


def conv_features(side: int, channels: list[int]) -> tuple[list[nn.Module], int]:
    """3x3 convolutions, the first at stride 1, the others at stride 2 (padding 1); and the flattened size."""
    layers, c_in = [], 1
    for k, c_out in enumerate(channels):
        stride = 1 if k == 0 else 2
        layers.append(nn.Conv2d(c_in, c_out, kernel_size=3, stride=stride, padding=1))
        side = (side + 2 - 3) // stride + 1
        c_in = c_out
    return layers, c_in * side * side


def stochastic_conv(
    n_inputs: int, hidden: list[int], n_classes: int, channels: list[int], activation: str = "relu"
) -> StochasticMLP:
    """Convolutions on the square image in ``x`` (flattened), then Gaussian layers and a linear head."""
    side = square_side(n_inputs)
    features, flat = conv_features(side, channels)
    model = StochasticMLP(flat, hidden, n_classes, activation, features=features, feature_shape=(1, side, side))
    for conv in model.layers[: len(features)]:
        nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
        nn.init.zeros_(conv.bias)
    return model
