"""Many MLPs of one shape as one module, for group training (:mod:`infoplane.training.group`)."""

from __future__ import annotations

import torch
from torch import nn

from .mlp import MLP


class StackedMLP(nn.Module):
    """G MLPs of one shape as one module: weights ``(G, in, out)`` (each run's weight transposed), biases ``(G, out)``.

    The ``(in, out)`` layout makes every product a plain batched one, about 20% faster than
    multiplying by transposed views; the optimisers are elementwise, so layout changes no update.

    ``logits(x)``: x (G, B, d), each run its own batch, or (n, d) shared by all; returns (G, B, classes).
    """

    def __init__(self, models: list[MLP]):
        super().__init__()
        n_layers = len(models[0].layers)
        self.weights = nn.ParameterList(
            nn.Parameter(torch.stack([m.layers[i].weight.detach().T for m in models]).contiguous())
            for i in range(n_layers)
        )
        self.biases = nn.ParameterList(
            nn.Parameter(torch.stack([m.layers[i].bias.detach() for m in models]).clone()) for i in range(n_layers)
        )
        # runs grouped by activation: one call per distinct activation, then back into run order
        kinds: dict[str, list[int]] = {}
        for g, m in enumerate(models):
            kinds.setdefault(repr(m.activation), []).append(g)
        self._activations = [(models[idx[0]].activation, idx) for idx in kinds.values()]
        order = [g for idx in kinds.values() for g in idx]
        self._restore = None if order == list(range(len(models))) else torch.argsort(torch.tensor(order))

    @property
    def n_runs(self) -> int:
        return self.weights[0].shape[0]

    def _activate(self, h: torch.Tensor) -> torch.Tensor:
        if len(self._activations) == 1:
            return self._activations[0][0](h)
        parts = torch.cat([act(h[idx]) for act, idx in self._activations])
        return parts if self._restore is None else parts[self._restore.to(h.device)]

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        h = x if x.dim() == 3 else x.expand(self.n_runs, *x.shape)
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            h = torch.baddbmm(b.unsqueeze(1), h, w)
            if i < last:
                h = self._activate(h)
        return h

    def run_parameters(self, g: int):
        """Run ``g``'s parameters under the names its own MLP has (``layers.{i}.weight``, ``layers.{i}.bias``)."""
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            yield f"layers.{i}.weight", w[g].T
            yield f"layers.{i}.bias", b[g]
