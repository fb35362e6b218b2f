"""The multilayer perceptron of the information-plane literature.

Shwartz-Ziv & Tishby (2017) use 12-10-7-5-4-3-2: five hidden layers and a softmax output,
weights from a truncated normal with std 1/sqrt(fan_in) and zero biases. The forward pass
returns every layer's output, so extraction and training share one definition of a "layer".
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .normalization import batch_norms
from .tanh import Tanh

ACTIVATIONS: dict[str, type[nn.Module] | None] = {
    "tanh": Tanh,
    "relu": nn.ReLU,
    "linear": None,
    "elu": nn.ELU,
    "softplus": nn.Softplus,
    "swish": nn.SiLU,
    "leaky_relu": nn.LeakyReLU,
    "sigmoid": nn.Sigmoid,
}


class MLP(nn.Module):
    """Fully connected network: ``n_inputs -> hidden[0] -> ... -> n_classes`` with softmax output.

    forward(x) returns the list of layer outputs [T_1, ..., T_L]: hidden activations, then the
    softmax probabilities (layer L). ``logits(x)`` returns the pre-softmax output for the loss.

    ``batch_norm``: each hidden layer is [Linear, BatchNorm, activation] (Hoffer et al. 2017's F1),
    the norms in ``norms``; ``ghost_batch``: their Ghost BN size (None: plain batch norm).
    """

    def __init__(
        self,
        n_inputs: int,
        hidden: list[int],
        n_classes: int,
        activation: str = "tanh",
        batch_norm: bool = False,
        ghost_batch: int | None = None,
    ):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; known: {sorted(ACTIVATIONS)}")
        widths = [n_inputs, *hidden, n_classes]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:], strict=True))
        act = ACTIVATIONS[activation]
        self.activation = act() if act is not None else nn.Identity()
        if batch_norm:
            self.norms = batch_norms(list(hidden), ghost_batch)
        elif ghost_batch is not None:
            raise ValueError("ghost_batch needs batch_norm")
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Truncated normal (at 2 std) with std 1/sqrt(fan_in), zero bias, as the original code."""
        for layer in self.layers:
            std = 1.0 / math.sqrt(layer.in_features)
            nn.init.trunc_normal_(layer.weight, std=std, a=-2 * std, b=2 * std)
            nn.init.zeros_(layer.bias)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_all(x)[-1]

    def forward_all(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Hidden activations, then the output logits."""
        outs = []
        norms = getattr(self, "norms", None)
        for i, layer in enumerate(self.layers[:-1]):
            x = layer(x)
            x = self.activation(norms[i](x) if norms is not None else x)
            outs.append(x)
        outs.append(self.layers[-1](x))
        return outs

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        outs = self.forward_all(x)
        outs[-1] = torch.softmax(outs[-1], dim=-1)
        return outs

    @property
    def n_layers(self) -> int:
        return len(self.layers)
