"""Drift and diffusion of the gradient (Shwartz-Ziv & Tishby 2017, Fig. 4).

Across the mini-batches of one epoch, the per-layer weight gradients g_1..g_B have a mean
(the drift) and a spread (the diffusion). We record ``||mean_b g_b||`` and
``sqrt(trace Cov_b(g_b)) = sqrt(mean_b ||g_b - mean||^2)`` for every layer's weight matrix;
their ratio is the gradient signal-to-noise ratio, high while fitting and low while compressing.
"""

from __future__ import annotations

import torch


class GradientMoments:
    """Running first and second moments of each layer's flattened weight gradient."""

    def __init__(self, n_layers: int):
        self.n_layers = n_layers
        self.reset()

    def reset(self) -> None:
        self.count = 0
        self.sum: list[torch.Tensor | None] = [None] * self.n_layers
        self.sum_sq_norm = [0.0] * self.n_layers

    def add(self, weight_grads: list[torch.Tensor]) -> None:
        """weight_grads: one gradient tensor per layer from one mini-batch."""
        self.count += 1
        for i, g in enumerate(weight_grads):
            g = g.detach().reshape(-1).to(torch.float64)
            self.sum[i] = g.clone() if self.sum[i] is None else self.sum[i] + g
            self.sum_sq_norm[i] += float(g @ g)

    def summary(self) -> dict[str, float]:
        """{"grad_mean_norm_layer{i}", "grad_std_layer{i}"} for i = 1..n_layers."""
        if self.count == 0:
            raise RuntimeError("no gradients were added")
        return _summary([(self.sum[i], self.sum_sq_norm[i]) for i in range(self.n_layers)], self.count)


class StackedGradientMoments:
    """:class:`GradientMoments` of G runs at once, from stacked weight gradients ``(G, out, in)``.

    Each run's moments are its own slice: ``summary(g)`` gives what a :class:`GradientMoments`
    fed with run g's gradients gives, up to the order of a float64 sum.
    """

    def __init__(self, n_layers: int):
        self.n_layers = n_layers
        self.reset()

    def reset(self) -> None:
        self.count = 0
        self.sum: list[torch.Tensor | None] = [None] * self.n_layers
        self.sum_sq_norm: list[torch.Tensor | None] = [None] * self.n_layers

    def add(self, weight_grads: list[torch.Tensor]) -> None:
        """weight_grads: one stacked gradient tensor ``(G, ...)`` per layer from one mini-batch."""
        self.count += 1
        for i, g in enumerate(weight_grads):
            g = g.detach().reshape(g.shape[0], -1).to(torch.float64)
            sq = (g * g).sum(dim=1)
            if self.sum[i] is None:
                self.sum[i], self.sum_sq_norm[i] = g.clone(), sq
            else:
                self.sum[i] += g
                self.sum_sq_norm[i] += sq

    def summary(self, g: int) -> dict[str, float]:
        """Run ``g``'s {"grad_mean_norm_layer{i}", "grad_std_layer{i}"}, as :meth:`GradientMoments.summary`."""
        if self.count == 0:
            raise RuntimeError("no gradients were added")
        return _summary([(self.sum[i][g], float(self.sum_sq_norm[i][g])) for i in range(self.n_layers)], self.count)


def _summary(layers: list[tuple[torch.Tensor, float]], count: int) -> dict[str, float]:
    """Drift and diffusion of each layer from (sum of its flattened gradients, sum of their squared
    norms) over ``count`` mini-batches."""
    out = {}
    for i, (total, sum_sq_norm) in enumerate(layers):
        mean = total / count
        mean_sq = float(mean @ mean)
        var_trace = max(sum_sq_norm / count - mean_sq, 0.0)
        out[f"grad_mean_norm_layer{i + 1}"] = mean_sq**0.5
        out[f"grad_std_layer{i + 1}"] = var_trace**0.5
    return out
