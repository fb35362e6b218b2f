"""Variational (critic-based) lower bounds on mutual information: MINE, NWJ, InfoNCE and SMILE.

A critic f(x, y) is trained to maximise a bound on the training split; the bound is then
evaluated on the held-out split, so that a critic that memorises its training pairs is not
rewarded (Poole et al. 2019; Song & Ermon 2020). All four read a score matrix S_ij = f(x_i, y_j)
over a set of pairs: the diagonal holds samples of p(x, y), the off-diagonal of p(x) p(y).

- ``mine``: the Donsker-Varadhan bound E_p[f] - log E_q[e^f], trained with the moving-average
  correction of the biased gradient of the log term (Belghazi et al. 2018, "MINE", ICML).
- ``nwj``: E_p[f] - e^{-1} E_q[e^f] (Nguyen, Wainwright & Jordan 2010, IEEE Trans. Inf. Theory).
- ``infonce``: mean_i [S_ii - log(1/B sum_j e^{S_ij})], at most log B (van den Oord et al. 2018;
  Poole et al. 2019, "On variational bounds of mutual information", ICML).
- ``smile``: DV with the partition term clipped, E_p[f] - log E_q[clip(e^f, e^-tau, e^tau)],
  trained through the Jensen-Shannon objective (Song & Ermon 2020, "Understanding the limitations
  of variational mutual information estimators", ICLR).

Intervals come from repeated critic seeds (``ci="seeds"``): each seed draws a new split, a new
initialisation and new batches.
"""

from __future__ import annotations

import logging
import math

import torch
from torch import nn

from .base import NATS_TO_BITS, check_choice, check_min_samples, check_positive_int, is_labels, register
from .gaussian import one_hot

CRITICS = ("separable", "concat")
log = logging.getLogger(__name__)


def _mlp(d_in: int, hidden: int, d_out: int, layers: int) -> nn.Sequential:
    mods: list[nn.Module] = []
    d = d_in
    for _ in range(layers):
        mods += [nn.Linear(d, hidden), nn.ReLU()]
        d = hidden
    mods.append(nn.Linear(d, d_out))
    return nn.Sequential(*mods)


class SeparableCritic(nn.Module):
    """f(x, y) = g(x) . h(y): a whole score matrix costs one matrix product."""

    def __init__(self, dx: int, dy: int, hidden: int = 64, embed: int = 32, layers: int = 2):
        super().__init__()
        self.g = _mlp(dx, hidden, embed, layers)
        self.h = _mlp(dy, hidden, embed, layers)

    def scores(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.g(x) @ self.h(y).T


class ConcatCritic(nn.Module):
    """f(x, y) = MLP([x, y]) evaluated on every pair: more expressive, B^2 forward passes."""

    def __init__(self, dx: int, dy: int, hidden: int = 64, layers: int = 2):
        super().__init__()
        self.f = _mlp(dx + dy, hidden, 1, layers)

    def scores(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        b, c = x.shape[0], y.shape[0]
        pairs = torch.cat([x[:, None, :].expand(b, c, -1), y[None, :, :].expand(b, c, -1)], dim=2)
        return self.f(pairs).squeeze(-1)


def _offdiag(s: torch.Tensor) -> torch.Tensor:
    n = s.shape[0]
    return s.masked_select(~torch.eye(n, dtype=torch.bool, device=s.device))


def _logmeanexp(v: torch.Tensor) -> torch.Tensor:
    return torch.logsumexp(v, dim=0) - math.log(v.numel())


def dv_bound(s: torch.Tensor, clip: float | None = None) -> torch.Tensor:
    off = _offdiag(s)
    if clip is not None:
        off = off.clamp(-clip, clip)
    return s.diagonal().mean() - _logmeanexp(off)


def nwj_bound(s: torch.Tensor) -> torch.Tensor:
    return s.diagonal().mean() - torch.exp(_logmeanexp(_offdiag(s)) - 1.0)


def infonce_bound(s: torch.Tensor) -> torch.Tensor:
    return (s.diagonal() - torch.logsumexp(s, dim=1)).mean() + math.log(s.shape[0])


def js_objective(s: torch.Tensor) -> torch.Tensor:
    """The f-GAN Jensen-Shannon objective, E_p[-softplus(-f)] - E_q[softplus(f)]."""
    sp = nn.functional.softplus
    return -sp(-s.diagonal()).mean() - sp(_offdiag(s)).mean()


BOUNDS = ("mine", "nwj", "infonce", "smile")


def _evaluate(method: str, s: torch.Tensor, clip: float) -> torch.Tensor:
    if method == "nwj":
        return nwj_bound(s)
    if method == "infonce":
        return infonce_bound(s)
    if method == "smile":
        return dv_bound(s, clip)
    return dv_bound(s)


class CriticDiverged(ValueError):
    """A critic whose loss or bound became non-finite (NaN or inf) on every seed tried."""


def variational_mi_nats(
    x: torch.Tensor,
    y: torch.Tensor,
    method: str,
    critic: str = "separable",
    hidden: int = 64,
    layers: int = 2,
    embed: int = 32,
    steps: int = 500,
    batch_size: int = 128,
    lr: float = 1e-3,
    train_fraction: float = 0.7,
    clip: float = 5.0,
    ma_rate: float = 0.01,
    seed: int = 0,
    grad_clip: float = 10.0,
    patience: int = 10,
    retries: int = 2,
) -> float:
    """Train a critic on a random ``train_fraction`` of the rows, return its bound on the rest (nats).

    x: (n, dx), y: (n, dy) floats or (n,) labels (one-hot encoded). Inputs are standardised with the
    training rows' mean and std. Training clips the gradient norm at ``grad_clip`` and stops early:
    a tenth of the training rows is held out for validation, the bound is evaluated there every
    ``steps // 20`` steps, training stops after ``patience`` evaluations without improvement, and
    the critic with the best validation bound is the one evaluated on the held-out rows. A critic
    whose loss or bound becomes non-finite is discarded and retrained with a new seed, up to
    ``retries`` times; then :class:`CriticDiverged` is raised. A diverged critic never gives a number.
    """
    check_choice(method, "method", BOUNDS)
    check_choice(critic, "critic", CRITICS)
    steps = check_positive_int(steps, "steps")
    batch_size = check_positive_int(batch_size, "batch_size", minimum=2)
    retries = check_positive_int(retries, "retries", minimum=0)
    if not 0.0 < train_fraction < 1.0:
        raise ValueError(f"train_fraction must lie strictly between 0 and 1, got {train_fraction}")
    if is_labels(y):
        y = one_hot(y)
    n = x.shape[0]
    check_min_samples(n, 8, f"the {method} estimator")
    problems = []
    for attempt in range(retries + 1):
        s = int(seed) + 7919 * attempt
        try:
            value = _fit_once(
                x,
                y,
                method,
                critic,
                hidden,
                layers,
                embed,
                steps,
                batch_size,
                lr,
                train_fraction,
                clip,
                ma_rate,
                s,
                grad_clip,
                patience,
            )
        except CriticDiverged as err:
            problems.append(f"seed {s}: {err}")
            continue
        if attempt:
            log.warning("%s: critic diverged on %d seed(s) and was retrained: %s", method, attempt, "; ".join(problems))
        return value
    raise CriticDiverged(
        f"{method}: the critic diverged on all {retries + 1} seeds tried ({'; '.join(problems)}); "
        "try marginals='copula' (heavy tails), a smaller lr, or another method"
    )


def _fit_once(
    x,
    y,
    method,
    critic,
    hidden,
    layers,
    embed,
    steps,
    batch_size,
    lr,
    train_fraction,
    clip,
    ma_rate,
    seed,
    grad_clip,
    patience,
) -> float:
    n = x.shape[0]
    device = x.device
    g = torch.Generator(device="cpu")
    g.manual_seed(int(seed))
    perm = torch.randperm(n, generator=g).to(device)
    n_train = min(max(int(round(train_fraction * n)), 2), n - 2)
    tr, te = perm[:n_train], perm[n_train:]
    n_val = n_train // 10 if n_train >= 40 else 0
    val, fit = tr[:n_val], tr[n_val:]
    x, y = x.to(torch.float32), y.to(torch.float32)
    mx, sx = x[tr].mean(0), x[tr].std(0).clamp(min=1e-8)
    my, sy = y[tr].mean(0), y[tr].std(0).clamp(min=1e-8)
    x, y = (x - mx) / sx, (y - my) / sy
    with torch.random.fork_rng(devices=[] if device.type == "cpu" else [device]):
        torch.manual_seed(int(seed))
        if critic == "separable":
            model: nn.Module = SeparableCritic(x.shape[1], y.shape[1], hidden, embed, layers)
        else:
            model = ConcatCritic(x.shape[1], y.shape[1], hidden, layers)
    model = model.to(device)
    # A small critic on CPU gains nothing from intra-op threads and loses a lot to their
    # synchronisation on a busy machine (measured 10-30x slower with 2 threads): train on one.
    threads = torch.get_num_threads()
    if device.type == "cpu":
        torch.set_num_threads(1)
    try:
        settings = (steps, batch_size, lr, clip, ma_rate, grad_clip, patience)
        return _train_and_evaluate(model, method, x, y, fit, val, te, g, *settings)
    finally:
        torch.set_num_threads(threads)


def _train_and_evaluate(
    model, method, x, y, tr, val, te, g, steps, batch_size, lr, clip, ma_rate, grad_clip, patience
) -> float:
    device = x.device
    n_train = tr.shape[0]
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    b = min(batch_size, n_train)
    ma = None
    every = max(steps // 20, 1)
    best, best_state, stale = -math.inf, None, 0
    for step in range(steps):
        idx = tr[torch.randint(0, n_train, (b,), generator=g).to(device)]
        s = model.scores(x[idx], y[idx])
        if method == "mine":
            # Biased gradient of log E_q[e^f] corrected with a moving average of E_q[e^f].
            off = _offdiag(s)
            batch_mean = torch.exp(_logmeanexp(off))
            ma = batch_mean.detach() if ma is None else (1 - ma_rate) * ma + ma_rate * batch_mean.detach()
            loss = -(s.diagonal().mean() - batch_mean / ma)
        elif method == "smile":
            js = js_objective(s)
            loss = -(js + (dv_bound(s, clip) - js).detach())
        else:
            loss = -_evaluate(method, s, clip)
        if not torch.isfinite(loss):
            raise CriticDiverged(f"non-finite training loss at step {step}")
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        opt.step()
        if val.numel() >= 2 and ((step + 1) % every == 0 or step + 1 == steps):
            with torch.no_grad():
                v = float(_evaluate(method, model.scores(x[val], y[val]).to(torch.float64), clip))
            if math.isfinite(v) and v > best:
                best, stale = v, 0
                best_state = {k: t.detach().clone() for k, t in model.state_dict().items()}
            else:
                stale += 1
                if stale >= patience:
                    break
    if best_state is not None:
        model.load_state_dict(best_state)
    with torch.no_grad():
        value = float(_evaluate(method, model.scores(x[te], y[te]).to(torch.float64), clip))
    if not math.isfinite(value):
        raise CriticDiverged(f"non-finite bound ({value}) on the held-out rows")
    return value


def _register(method: str, reference: str):
    @register(method, ci="seeds", labels_ok=True)
    def fn(
        x: torch.Tensor,
        y: torch.Tensor,
        critic: str = "separable",
        hidden: int = 64,
        layers: int = 2,
        embed: int = 32,
        steps: int = 500,
        batch_size: int = 128,
        lr: float = 1e-3,
        train_fraction: float = 0.7,
        clip: float = 5.0,
        ma_rate: float = 0.01,
        seed: int = 0,
        grad_clip: float = 10.0,
        patience: int = 10,
        retries: int = 2,
    ) -> float:
        settings = dict(critic=critic, hidden=hidden, layers=layers, embed=embed, steps=steps)
        settings.update(batch_size=batch_size, lr=lr, train_fraction=train_fraction, clip=clip, ma_rate=ma_rate)
        settings.update(grad_clip=grad_clip, patience=patience, retries=retries)
        nats = variational_mi_nats(x, y, method, seed=seed, **settings)
        return nats * NATS_TO_BITS

    fn.__name__ = f"{method}_mi_bits"
    fn.__doc__ = (
        f"{method.upper()} variational lower bound on I(X;Y), in bits, of a critic trained on a\n"
        f"random train split and evaluated on the held-out rows ({reference}).\n\n"
        "x: (n, dx); y: (n, dy) or (n,) labels. critic: 'separable' g(x).h(y) or 'concat' MLP([x, y]);\n"
        "steps of Adam (lr) on batches of batch_size; clip: SMILE's tau; ma_rate: MINE's average rate.\n"
        "grad_clip: gradient-norm clip; patience: early stopping on a validation split (evaluations without\n"
        "improvement); retries: new seeds for a diverged critic before CriticDiverged is raised.\n"
        "seed: split, initialisation and batches."
    )
    return fn


mine_mi_bits = _register("mine", "Belghazi et al. 2018")
nwj_mi_bits = _register("nwj", "Nguyen, Wainwright & Jordan 2010")
infonce_mi_bits = _register("infonce", "van den Oord et al. 2018; Poole et al. 2019")
smile_mi_bits = _register("smile", "Song & Ermon 2020")
