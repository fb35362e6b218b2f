"""Masked autoregressive flows (MAF) in plain torch: the invertible per-side maps of :mod:`.flow`.

Papamakarios, Pavlakou & Murray (2017), "Masked autoregressive flow for density estimation", NeurIPS,
with the MADE masks of Germain, Gregor, Murray & Larochelle (2015), ICML. Only the density direction
is needed (z from u, and log |det dz/du|), which is one pass of the network; nothing is sampled.
"""

from __future__ import annotations

import torch
from torch import nn


class _MaskedLinear(nn.Linear):
    def __init__(self, d_in: int, d_out: int, mask: torch.Tensor):
        super().__init__(d_in, d_out)
        self.register_buffer("mask", mask)

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        return nn.functional.linear(u, self.weight * self.mask, self.bias)


class MAF(nn.Module):
    """One masked autoregressive layer (MADE net): z_j = (u_j - mu_j(u_<j)) exp(-alpha_j(u_<j)).

    Starts as the identity (zero last layer); |alpha| is softly held below ``max_log_scale``.
    """

    def __init__(self, d: int, hidden: int, max_log_scale: float = 6.0):
        super().__init__()
        deg_in = torch.arange(1, d + 1)
        deg_h = torch.arange(hidden) % max(d - 1, 1) + 1
        self.l1 = _MaskedLinear(d, hidden, (deg_h[:, None] >= deg_in[None, :]).float())
        self.l2 = _MaskedLinear(hidden, hidden, (deg_h[:, None] >= deg_h[None, :]).float())
        self.l3 = _MaskedLinear(hidden, 2 * d, (deg_in[:, None] > deg_h[None, :]).float().repeat(2, 1))
        nn.init.zeros_(self.l3.weight)
        nn.init.zeros_(self.l3.bias)
        self.max_log_scale = max_log_scale

    def forward(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, alpha = self.l3(torch.relu(self.l2(torch.relu(self.l1(u))))).chunk(2, dim=1)
        alpha = self.max_log_scale * torch.tanh(alpha / self.max_log_scale)
        return (u - mu) * torch.exp(-alpha), -alpha.sum(dim=1)


class SideFlow(nn.Module):
    """``blocks`` MAF layers, then an affine map z = W u + b: the invertible map of one side."""

    def __init__(self, d: int, blocks: int, hidden: int):
        super().__init__()
        self.mafs = nn.ModuleList(MAF(d, hidden) for _ in range(blocks))
        self.weight = nn.Parameter(torch.eye(d))
        self.bias = nn.Parameter(torch.zeros(d))

    def forward(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logdet = torch.zeros(u.shape[0], dtype=u.dtype, device=u.device)
        for layer in self.mafs:
            u, ld = layer(u)
            logdet = logdet + ld
        return u @ self.weight.T + self.bias, logdet + torch.linalg.slogdet(self.weight)[1]
