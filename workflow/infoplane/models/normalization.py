"""Batch normalisation for the model families, and Ghost Batch Normalization (Hoffer et al. 2017).

Ghost BN normalises every "ghost" batch of ``ghost_batch`` rows inside a large batch with that ghost
batch's own statistics, and updates the running statistics once per ghost batch, so a large batch
sees the noisier statistics of small ones. With ``ghost_batch`` None, or at least the batch, it is
plain batch normalisation. In eval mode both use the running statistics (buffers: the weights
store records them, see :func:`infoplane.training.train.weights_snapshot`).
"""

from __future__ import annotations

import torch
from torch import nn


class GhostBatchNorm1d(nn.BatchNorm1d):
    """BatchNorm1d over ghost batches: x (n, features) is normalised in chunks of ``ghost_batch`` rows.

    A last chunk shorter than ``ghost_batch`` (a batch that is not a multiple of it) is its own ghost
    batch, unless it is a single row, which joins the chunk before it (one row has no variance).
    """

    def __init__(self, num_features: int, ghost_batch: int | None = None, **kwargs):
        super().__init__(num_features, **kwargs)
        if ghost_batch is not None and ghost_batch < 2:
            raise ValueError(f"ghost_batch must be at least 2 (or None for plain batch norm), got {ghost_batch}")
        self.ghost_batch = ghost_batch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.ghost_batch is None or len(x) <= self.ghost_batch:
            return super().forward(x)
        chunks = list(torch.split(x, self.ghost_batch))
        if len(chunks[-1]) == 1:
            chunks[-2:] = [torch.cat(chunks[-2:])]
        return torch.cat([super(GhostBatchNorm1d, self).forward(c) for c in chunks])

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, ghost_batch={self.ghost_batch}"


def batch_norms(widths: list[int], ghost_batch: int | None = None) -> nn.ModuleList:
    """One (ghost) batch norm per hidden width, to apply between a layer's affine map and its activation."""
    return nn.ModuleList(GhostBatchNorm1d(w, ghost_batch=ghost_batch) for w in widths)


def set_ghost_batch(model: nn.Module, ghost_batch: int | None) -> None:
    """Set the ghost batch size of every GhostBatchNorm1d in ``model`` (None: plain batch norm)."""
    for module in model.modules():
        if isinstance(module, GhostBatchNorm1d):
            module.ghost_batch = ghost_batch
