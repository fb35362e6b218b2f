"""The Wasserstein dependency measure (WDM) of a Lipschitz critic.

Ozair, Lynch, Bengio, van den Oord, Levine & Sermanet 2019, "Wasserstein dependency measure for
representation learning" (NeurIPS). WDM replaces the KL divergence in I(X; Y) = KL(p(x, y) || p(x) p(y))
by the Wasserstein-1 distance, which by Kantorovich-Rubinstein duality is

    WDM(X; Y) = W_1(p(x, y), p(x) p(y)) = sup_{f 1-Lipschitz} E_{p(x, y)}[f(x, y)] - E_{p(x) p(y)}[f(x, y)],

with the Euclidean metric on the concatenated (x, y). The supremum is approximated by a critic
f = MLP([x, y]) (ReLU) trained to maximise the difference, with the Lipschitz constraint enforced
either by spectral normalisation of every linear layer (``lipschitz="spectral"``, the default: f is
then 1-Lipschitz exactly, so the held-out value estimates a lower bound on W_1) or by the paper's
gradient penalty, penalty x E[max(0, |grad f| - 1)^2] at random interpolates of joint and product
pairs (``lipschitz="gradient_penalty"``, one-sided as in the WGAN-GP of Gulrajani et al. 2017; the
constraint is soft, so values can exceed W_1).

As the project's variational critics (:mod:`infoplane.estimators.variational`), the critic is trained
on a random ``train_fraction`` of the rows (:func:`~infoplane.estimators.variational.split_sizes`,
the same split sizes) and evaluated on the rest, where E_p is the mean over the held-out pairs and
E_{p(x)p(y)} the mean over all n_h (n_h - 1) mismatched held-out pairs. x and y are standardised with
the training rows' mean and std, so WDM is in units of the standardised data, not in bits; it is
about 0 (either sign) for independent x and y and grows with the dependence. Training batches pair
each x with the y of a random permutation of its batch for the product. Deterministic given ``seed``
on CPU (split, initialisation, batches, power iterations).

Cost: ``steps`` x batch forward/backward passes, then n_h^2 critic evaluations, in blocks of rows.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from ..estimators.base import as_tensor, check_choice, check_min_samples, check_positive_int, cpu_generator, row_chunks
from ..estimators.gaussian import one_hot
from ..estimators.variational import _mlp, split_sizes

LIPSCHITZ = ("spectral", "gradient_penalty")


def _critic(d_in: int, hidden: int, layers: int, lipschitz: str) -> nn.Sequential:
    net = _mlp(d_in, hidden, 1, layers)
    if lipschitz == "spectral":
        for i, m in enumerate(net):
            if isinstance(m, nn.Linear):
                net[i] = spectral_norm(m)
    return net


def _penalty(f: nn.Module, joint: torch.Tensor, product: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    eps = torch.rand(joint.shape[0], 1, generator=g).to(joint.device, joint.dtype)
    u = (eps * joint + (1 - eps) * product).requires_grad_(True)
    (grad,) = torch.autograd.grad(f(u).sum(), u, create_graph=True)
    return (grad.norm(dim=1) - 1).clamp(min=0).square().mean()


@torch.no_grad()
def heldout_dependency(f: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """E_p[f] over the n pairs (x_i, y_i) minus the mean of f over the n (n - 1) pairs (x_i, y_j), i != j."""
    n = x.shape[0]
    joint = float(f(torch.cat([x, y], dim=1)).to(torch.float64).mean())
    off = 0.0
    for rows in row_chunks(n, n * (x.shape[1] + y.shape[1]), device=x.device):
        b = rows.stop - rows.start
        pairs = torch.cat([x[rows, None, :].expand(b, n, -1), y[None, :, :].expand(b, n, -1)], dim=2)
        s = f(pairs.reshape(b * n, -1)).reshape(b, n).to(torch.float64)
        idx = torch.arange(b, device=x.device)
        off += float(s.sum() - s[idx, rows.start + idx].sum())
    return joint - off / (n * (n - 1))


def wasserstein_dependency(
    x,
    y,
    lipschitz: str = "spectral",
    hidden: int = 64,
    layers: int = 2,
    steps: int = 500,
    batch_size: int = 128,
    lr: float = 1e-3,
    train_fraction: float = 0.7,
    penalty: float = 10.0,
    seed: int = 0,
) -> float:
    """WDM(X; Y) of a critic trained on a random split and evaluated on the held-out rows (Ozair et al. 2019).

    x: (n, dx) floats; y: (n, dy) floats or (n,) integer labels (one-hot); numpy or torch on any
    device; n >= 8. lipschitz: ``"spectral"`` or ``"gradient_penalty"`` (weight ``penalty`` > 0).
    hidden, layers: the critic MLP; steps of Adam (lr) on batches of batch_size. seed: everything
    random. Returns WDM in units of the standardised (x, y); see the module docstring.
    """
    check_choice(lipschitz, "lipschitz", LIPSCHITZ)
    hidden, layers = check_positive_int(hidden, "hidden"), check_positive_int(layers, "layers", minimum=0)
    steps, batch_size = check_positive_int(steps, "steps"), check_positive_int(batch_size, "batch_size", minimum=2)
    seed = check_positive_int(seed, "seed", minimum=0)
    for name, value, ok in (("lr", lr, lr > 0), ("train_fraction", train_fraction, 0 < train_fraction < 1)):
        if isinstance(value, bool) or not math.isfinite(value) or not ok:
            raise ValueError(f"{name} must be {'> 0' if name == 'lr' else 'strictly between 0 and 1'}, got {value!r}")
    if isinstance(penalty, bool) or not math.isfinite(penalty) or penalty <= 0:
        raise ValueError(f"penalty must be a finite number > 0, got {penalty!r}")
    device = x.device if isinstance(x, torch.Tensor) else torch.device("cpu")
    x, y = as_tensor(x, "x", device), as_tensor(y, "y", device, labels_ok=True)
    if y.ndim == 1:
        y = one_hot(y).to(torch.float64)
    n = x.shape[0]
    if y.shape[0] != n:
        raise ValueError(f"x and y must have the same number of rows, got {n} and {y.shape[0]}")
    check_min_samples(n, 8, "the Wasserstein dependency measure")
    g = cpu_generator(seed)
    perm = torch.randperm(n, generator=g).to(device)
    n_train = split_sizes(n, train_fraction)[0]
    tr, te = perm[:n_train], perm[n_train:]
    x, y = x.to(torch.float32), y.to(torch.float32)
    x = (x - x[tr].mean(0)) / x[tr].std(0).clamp(min=1e-8)
    y = (y - y[tr].mean(0)) / y[tr].std(0).clamp(min=1e-8)
    with torch.random.fork_rng(devices=[] if device.type == "cpu" else [device]):
        torch.manual_seed(seed)
        f = _critic(x.shape[1] + y.shape[1], hidden, layers, lipschitz).to(device)
        opt = torch.optim.Adam(f.parameters(), lr=lr)
        b = min(batch_size, n_train)
        for _ in range(steps):
            idx = tr[torch.randint(0, n_train, (b,), generator=g).to(device)]
            shuffled = idx[torch.randperm(b, generator=g).to(device)]
            joint, product = torch.cat([x[idx], y[idx]], 1), torch.cat([x[idx], y[shuffled]], 1)
            loss = f(product).mean() - f(joint).mean()
            if lipschitz == "gradient_penalty":
                loss = loss + penalty * _penalty(f, joint, product, g)
            opt.zero_grad()
            loss.backward()
            opt.step()
        f.eval()
        return heldout_dependency(f, x[te], y[te])
