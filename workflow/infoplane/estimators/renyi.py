"""Matrix-based Renyi alpha-entropy mutual information.

Sanchez Giraldo, Rao & Principe (2015), "Measures of entropy from data using infinitely
divisible kernels", IEEE Trans. Inf. Theory 61(1); applied to deep networks by Yu, Wickstrom,
Jenssen & Principe (2019), "Understanding convolutional neural networks with information
theory: an initial exploration", IEEE TNNLS.

With a Gaussian Gram matrix K_ij = exp(-|x_i - x_j|^2 / (2 sigma^2)) and A = K / tr(K),

    S_alpha(A) = 1 / (1 - alpha) log2 sum_i lambda_i(A)^alpha,
    S_alpha(A, B) = S_alpha(A o B / tr(A o B))    (o: the Hadamard product),
    I_alpha(X; Y) = S_alpha(A) + S_alpha(B) - S_alpha(A, B).

This is an entropy-like functional of the Gram matrices, not Shannon's MI: it grows with
dependence, but its value on a distribution with known Shannon MI is not that MI. Nor is it zero
for independent samples at finite n: the diagonal K_ii = 1 contributes terms of order 1/n that do
not cancel (with the default width, ~1 bit for 3+3 independent dimensions at n = 1000), so
compare values across epochs or layers at equal n and width, not against zero.
Labels use the delta kernel K_ij = [y_i = y_j].

Cost: alpha = 2 uses sum lambda^2 = |A|_F^2, computed in row blocks (O(n^2) time, O(block x n)
memory). Any other alpha needs the eigenvalues of n x n matrices: O(n^3) time, n^2 memory.
"""

from __future__ import annotations

import math

import torch

from .base import check_min_samples, is_labels, register, row_chunks


def kernel_width(x: torch.Tensor, sigma_scale: float = 1.0) -> float:
    """Scott's rule in d dimensions on the total variance: sigma_scale x sqrt(sum var) x n^(-1/(4+d))."""
    n, d = x.shape
    total_var = float(x.var(dim=0, unbiased=False).sum())
    total_var = total_var if total_var > 0 else 1.0
    return sigma_scale * math.sqrt(total_var) * n ** (-1.0 / (4 + d))


def gram(a: torch.Tensor, sigma: float | None, rows: slice = slice(None)) -> torch.Tensor:
    """(rows, n) Gram matrix block: Gaussian kernel for floats (n, d), delta kernel for labels (n,)."""
    if is_labels(a):
        return (a[rows, None] == a[None, :]).to(torch.float64)
    sq = (a * a).sum(dim=1)
    d2 = torch.addmm(sq[rows, None] + sq[None, :], a[rows], a.T, alpha=-2.0).clamp_(min=0.0)
    return torch.exp(-d2 / (2.0 * sigma * sigma))


def _entropy_from_eigs(lam: torch.Tensor, alpha: float) -> float:
    lam = lam.clamp(min=0.0)
    lam = lam / lam.sum()
    if abs(alpha - 1.0) < 1e-12:
        nz = lam[lam > 0]
        return float(-(nz * torch.log2(nz)).sum())
    return float(torch.log2((lam**alpha).sum()) / (1.0 - alpha))


def _prepare(a: torch.Tensor, sigma: float | None, sigma_scale: float):
    if is_labels(a):
        return a, None
    a = a.to(torch.float64)
    a = a - a.mean(dim=0, keepdim=True)
    return a, (sigma if sigma is not None else kernel_width(a, sigma_scale))


@register("renyi", ci="subsample", labels_ok=True)
def renyi_mi_bits(
    x: torch.Tensor,
    y: torch.Tensor,
    alpha: float = 2.0,
    sigma_x: float | None = None,
    sigma_y: float | None = None,
    sigma_scale: float = 1.0,
    chunk_size: int | None = None,
) -> float:
    """Matrix-based Renyi alpha-order MI, in bits (Sanchez Giraldo et al. 2015; Yu et al. 2019).

    x: (n, dx) floats or (n,) labels; y: likewise. alpha > 0: 2 (the default) is the fast
    Frobenius form; 1.01 approximates Shannon's limit (Yu et al.) at O(n^3) cost. sigma_x,
    sigma_y: kernel widths, by default :func:`kernel_width` with ``sigma_scale``.
    """
    if not alpha > 0:
        raise ValueError(f"alpha must be > 0, got {alpha}")
    n = x.shape[0]
    check_min_samples(n, 2, "the matrix-based Renyi estimator")
    x, sx = _prepare(x, sigma_x, sigma_scale)
    y, sy = _prepare(y, sigma_y, sigma_scale)
    if alpha == 2.0:
        # S_2(A) = -log2 |A|_F^2 with A = K / n, and tr(A o B) = 1/n^2 sum_i K_ii L_ii = 1/n.
        fx = fy = fxy = torch.zeros((), dtype=torch.float64, device=x.device)
        for rows in row_chunks(n, n, chunk_size, device=x.device):
            kx, ky = gram(x, sx, rows), gram(y, sy, rows)
            fx = fx + (kx * kx).sum()
            fy = fy + (ky * ky).sum()
            fxy = fxy + ((kx * ky) ** 2).sum()
        # |K/n|_F^2 = fx / n^2 for both marginals and the joint (tr(K o L) = n too).
        return float(-torch.log2(fx / n**2) - torch.log2(fy / n**2) + torch.log2(fxy / n**2))
    kx, ky = gram(x, sx), gram(y, sy)
    eig = torch.linalg.eigvalsh
    hx = _entropy_from_eigs(eig(kx / n), alpha)
    hy = _entropy_from_eigs(eig(ky / n), alpha)
    hxy = _entropy_from_eigs(eig(kx * ky / n), alpha)
    return hx + hy - hxy
