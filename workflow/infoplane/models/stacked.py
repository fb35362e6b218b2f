"""Many MLPs of one shape as one module, for group training (:mod:`infoplane.training.group`)."""

from __future__ import annotations

import torch
from torch import nn

from .mlp import MLP


class StackedMLP(nn.Module):
    """G MLPs of one shape as one module: weights ``(G, out, in)``, biases ``(G, out)``, as each run's own.

    Inside, activations are feature-major, ``(G, units, B)``: ``W @ h`` with the long batch dim
    contiguous is about 1.6x faster on CPU than ``h @ W^T`` for these narrow layers. The optimisers are
    elementwise, so the layout changes no update.

    ``logits(x)``: x (G, B, d), each run its own batch, or (n, d) shared by all; returns (G, B, classes).
    ``logits_t(x)``: the same as (G, classes, B), without the final transpose.
    """

    def __init__(self, models: list[MLP]):
        super().__init__()
        n_layers = len(models[0].layers)
        self.weights = nn.ParameterList(
            nn.Parameter(torch.stack([m.layers[i].weight.detach() for m in models]).contiguous())
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
        return self.logits_t(x).transpose(1, 2)

    def logits_t(self, x: torch.Tensor) -> torch.Tensor:
        h = x.transpose(-1, -2).contiguous()  # (G, d, B) or (d, n)
        return self.forward_t(h.expand(self.n_runs, *h.shape) if h.dim() == 2 else h)

    def forward_t(self, h: torch.Tensor) -> torch.Tensor:
        """Logits (G, classes, B) of feature-major inputs h (G, d, B)."""
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            h = torch.baddbmm(b.unsqueeze(2), w, h)
            if i < last:
                h = self._activate(h)
        return h

    def stacked_parameters(self):
        """Every stacked tensor (runs first) under the name each run's own MLP gives its slice, in that order."""
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            yield f"layers.{i}.weight", w
            yield f"layers.{i}.bias", b

    def run_parameters(self, g: int):
        """Run ``g``'s parameters under the names its own MLP has (``layers.{i}.weight``, ``layers.{i}.bias``)."""
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            yield f"layers.{i}.weight", w[g]
            yield f"layers.{i}.bias", b[g]
