"""Noisy convolutional networks (Butakov et al. 2024; noise injection as in Goldfeld et al. 2019).

Blocks of 3x3 convolution (padding 1), LeakyReLU and 2x2 max-pooling, with configurable channels,
then dense layers with LeakyReLU, then a linear head. After every block and dense layer a
:class:`GaussianNoise` layer adds N(0, s^2) noise, in training and in evaluation alike, so every
representation L of X is a random variable and I(X;L) is finite; then dropout (training only, as
usual: the noise already makes the representations stochastic at evaluation).

s is ``noise_std`` itself (``noise_relative: false``) or ``noise_std`` times the standard deviation
of that layer's activations over the batch and units (``noise_relative: true``, the paper's
sigma = 1e-3 relative), taken without gradient.

The noise comes from torch's global generator: extraction seeds it before every epoch, so a replay
is reproducible. Protocol (``infoplane.models``): ``forward(x)`` returns [T_1, ..., T_L], the conv
blocks' outputs (flattened: channels x height x width units), the dense layers', then the softmax;
``logits(x)``; ``layers`` holds the convolutions, the dense layers and the head, one per T.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class GaussianNoise(nn.Module):
    """h + s N(0, 1), in training and evaluation; s = std, or std x (batch std of h) when ``relative``."""

    def __init__(self, std: float, relative: bool = True):
        super().__init__()
        if not std >= 0:
            raise ValueError(f"noise_std must be >= 0, got {std!r}")
        self.std, self.relative = float(std), bool(relative)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        if self.std == 0:
            return h
        scale = self.std * (h.detach().std() if self.relative and h.numel() > 1 else 1.0)
        return h + scale * torch.randn_like(h)


def conv_output_side(side: int, blocks: int, key: str = "model.channels") -> int:
    """The side after ``blocks`` 2x2 poolings (floored), or a ValueError naming ``key`` when it reaches 0."""
    out = side
    for _ in range(blocks):
        out //= 2
    if out < 1:
        raise ValueError(f"{key}: {blocks} conv blocks halve a {side}x{side} image {blocks} times, to nothing; "
                         f"use at most {int(math.log2(side))} blocks or larger images")  # fmt: skip
    return out


class NoisyConvNet(nn.Module):
    """(n, side^2) images -> conv blocks of ``channels`` -> dense layers ``hidden`` -> ``n_classes`` logits."""

    def __init__(
        self,
        side: int,
        channels: list[int],
        hidden: list[int],
        n_classes: int,
        noise_std: float = 1e-3,
        noise_relative: bool = True,
        dropout: float = 0.0,
        negative_slope: float = 0.01,
    ):
        super().__init__()
        if not 0 <= dropout < 1:
            raise ValueError(f"model.dropout must lie in [0, 1), got {dropout!r}")
        self.side = int(side)
        out_side = conv_output_side(self.side, len(channels))
        convs, c_in = [], 1
        for c in channels:
            convs.append(nn.Conv2d(c_in, int(c), kernel_size=3, padding=1))
            c_in = int(c)
        widths = [c_in * out_side * out_side, *[int(h) for h in hidden]]
        dense = [nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:], strict=True)]
        self.n_conv = len(convs)
        self.layers = nn.ModuleList([*convs, *dense, nn.Linear(widths[-1], n_classes)])
        self.activation = nn.LeakyReLU(negative_slope)
        self.pool = nn.MaxPool2d(2)
        self.noise = GaussianNoise(noise_std, noise_relative)
        self.dropout = nn.Dropout(dropout)
        for layer in self.layers:
            nn.init.kaiming_normal_(layer.weight, a=negative_slope, nonlinearity="leaky_relu")
            nn.init.zeros_(layer.bias)

    def forward_all(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Every representation (conv blocks flattened, dense layers), then the logits."""
        outs = []
        h = x.reshape(x.shape[0], 1, self.side, self.side)
        for conv in self.layers[: self.n_conv]:
            h = self.noise(self.pool(self.activation(conv(h))))
            outs.append(h.flatten(1))
            h = self.dropout(h)
        h = h.flatten(1)
        for layer in self.layers[self.n_conv : -1]:
            h = self.noise(self.activation(layer(h)))
            outs.append(h)
            h = self.dropout(h)
        outs.append(self.layers[-1](h))
        return outs

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_all(x)[-1]

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        outs = self.forward_all(x)
        outs[-1] = torch.softmax(outs[-1], dim=-1)
        return outs

    @property
    def n_layers(self) -> int:
        return len(self.layers)
