"""Variational (critic-based) lower bounds on mutual information: MINE, NWJ, InfoNCE and SMILE.

A critic f(x, y) is trained to maximise a bound on the training split; the bound is then
evaluated on the held-out split, so that a critic that memorises its training pairs is not
rewarded (Poole et al. 2019; Song & Ermon 2020). All four read a score matrix S_ij = f(x_i, y_j)
over a set of pairs: the diagonal holds samples of p(x, y), the off-diagonal of p(x) p(y).

- ``mine``: the Donsker-Varadhan bound E_p[f] - log E_q[e^f], trained with the moving-average
  correction of the biased gradient of the log term (Belghazi et al. 2018, "MINE", ICML).
- ``nwj``: E_p[f] - e^{-1} E_q[e^f] (Nguyen, Wainwright & Jordan 2010, IEEE Trans. Inf. Theory).
- ``infonce``: mean_i [S_ii - log(1/B sum_j e^{S_ij})], at most log B (van den Oord et al. 2018;
  Poole et al. 2019, "On variational bounds of mutual information", ICML). The held-out value is
  computed on all pairs of the held-out split, B = n_heldout = n - round(train_fraction x n), so it
  can never exceed log2(n_heldout) bits (10.55 bits at n = 5000 and the default split), whatever the
  truth and the critic: :func:`infonce_ceiling_bits` gives the ceiling, :func:`ceiling_info` says
  whether an estimate is at it (within 1 bit, where an optimal critic lands once I >= log B: at
  I = log B it gives about log(B^2 / (2B - 1)) = log B - 1 bit), and :func:`variational_mi` returns
  both with the estimate. An estimate at the ceiling is a lower bound only. Training batches have
  their own, lower ceiling, log2(batch_size) (7 bits at 128): a critic trained there may stop
  sharpening beyond it, so raise ``batch_size`` where the MI may be high.
- ``smile``: DV with the partition term clipped, E_p[f] - log E_q[clip(e^f, e^-tau, e^tau)],
  trained through the Jensen-Shannon objective (Song & Ermon 2020, "Understanding the limitations
  of variational mutual information estimators", ICLR).

Every held-out (and validation) bound is evaluated on all n_heldout^2 pairs of its split, in blocks
of rows of the score matrix, so memory stays O(block x n_heldout) for either critic.

Intervals come from repeated critic seeds (``ci="seeds"``): each seed draws a new split, a new
initialisation and new batches.
"""

from __future__ import annotations

import logging
import math
import sys

import torch
from torch import nn

from .base import (
    NATS_TO_BITS,
    check_choice,
    check_min_samples,
    check_positive_int,
    is_labels,
    register,
    row_chunks,
)
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


_MAX_EXP_ARGUMENT = math.log(sys.float_info.max)  # about 709.8: exp of more overflows a float
CEILING_MARGIN_BITS = 1.0  # an InfoNCE estimate this close to log2(B) is at the ceiling (module docstring)


def split_sizes(n: int, train_fraction: float) -> tuple[int, int]:
    """(training rows, held-out rows) of the random split of n rows that every critic uses."""
    n_train = min(max(int(round(train_fraction * n)), 2), n - 2)
    return n_train, n - n_train


def infonce_ceiling_bits(n: int, train_fraction: float = 0.7, **_) -> float:
    """log2(n_heldout): the largest value InfoNCE can take on n rows split at ``train_fraction``, in bits."""
    return math.log2(split_sizes(int(n), train_fraction)[1])


def ceiling_info(bits: float, n: int, train_fraction: float = 0.7, **_) -> dict:
    """What the InfoNCE ceiling says of an estimate of ``bits`` on n rows: ``ceiling_bits`` (log2 of the
    held-out rows), ``at_ceiling`` (within CEILING_MARGIN_BITS of it: the truth may be anything higher,
    so the estimate is a lower bound only) and ``lower_bound_only`` (the same flag, named for a reader)."""
    c = infonce_ceiling_bits(n, train_fraction)
    at = bool(bits >= c - CEILING_MARGIN_BITS)
    return {"ceiling_bits": c, "at_ceiling": at, "lower_bound_only": at}


def _score_blocks(model: nn.Module, x: torch.Tensor, y: torch.Tensor):
    """(start row, float64 block of rows of S_ij = f(x_i, y_j)) over all pairs, a block at a time."""
    n = x.shape[0]
    if isinstance(model, SeparableCritic):
        hy = model.h(y)
        for rows in row_chunks(n, n, device=x.device):
            yield rows.start, (model.g(x[rows]) @ hy.T).to(torch.float64)
    else:
        width = n * (x.shape[1] + y.shape[1] + model.f[0].out_features)
        for rows in row_chunks(n, width, chunk_size=max(1, (1 << 22) // width), device=x.device):
            yield rows.start, model.scores(x[rows], y).to(torch.float64)


@torch.no_grad()
def heldout_bound(model: nn.Module, method: str, x: torch.Tensor, y: torch.Tensor, clip: float) -> float:
    """The bound of ``method`` on all n^2 pairs of (x, y) (n rows: one batch of n), in nats, computed
    in blocks of rows of the score matrix; equals :func:`_evaluate` on the whole matrix."""
    n = x.shape[0]
    diag_sum, row_terms, off_lse = 0.0, 0.0, torch.tensor(-math.inf, dtype=torch.float64, device=x.device)
    for start, s in _score_blocks(model, x, y):
        b = s.shape[0]
        idx = torch.arange(b, device=s.device)
        diag = s[idx, start + idx]
        diag_sum += float(diag.sum())
        if method == "infonce":
            row_terms += float((diag - torch.logsumexp(s, dim=1)).sum())
            continue
        off = s.clamp(-clip, clip) if method == "smile" else s
        off = off.clone()
        off[idx, start + idx] = -math.inf
        off_lse = torch.logaddexp(off_lse, torch.logsumexp(off.flatten(), dim=0))
    if method == "infonce":
        return row_terms / n + math.log(n)
    log_mean_q = float(off_lse) - math.log(n * (n - 1))
    if method == "nwj":
        # exp(log_mean_q - 1) overflows a float past about 709 nats; the whole-matrix bound is then -inf
        # (torch's float64 exp overflows to inf), and the caller's non-finite check treats it as a diverged critic.
        if log_mean_q - 1.0 > _MAX_EXP_ARGUMENT:
            return -math.inf
        return diag_sum / n - math.exp(log_mean_q - 1.0)
    return diag_sum / n - log_mean_q


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


def variational_mi(x: torch.Tensor, y: torch.Tensor, method: str, **settings) -> tuple[float, dict]:
    """(:func:`variational_mi_nats`, info): the bound in nats and what it was evaluated on.

    info: ``n_train`` and ``n_heldout`` rows (the held-out bound is one batch of all n_heldout rows);
    for ``infonce`` also :func:`ceiling_info` of the estimate (``ceiling_bits``, ``at_ceiling``).
    """
    nats = variational_mi_nats(x, y, method, **settings)
    n, fraction = int(x.shape[0]), settings.get("train_fraction", 0.7)
    n_train, n_heldout = split_sizes(n, fraction)
    info = {"method": method, "n_train": n_train, "n_heldout": n_heldout}
    if method == "infonce":
        info.update(ceiling_info(nats * NATS_TO_BITS, n, fraction))
    return nats, info


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
    n_train = split_sizes(n, train_fraction)[0]
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
            v = heldout_bound(model, method, x[val], y[val], clip)
            if math.isfinite(v) and v > best:
                best, stale = v, 0
                best_state = {k: t.detach().clone() for k, t in model.state_dict().items()}
            else:
                stale += 1
                if stale >= patience:
                    break
    if best_state is not None:
        model.load_state_dict(best_state)
    value = heldout_bound(model, method, x[te], y[te], clip)  # one batch of all held-out rows
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
    if method == "infonce":
        fn.__doc__ += (
            "\n\nThe estimate never exceeds log2(n_heldout) bits (infonce_ceiling_bits); "
            "fn.ceiling_info(bits, n, train_fraction)\nsays whether it is at that ceiling "
            "(a lower bound only then); estimate() puts it in MIEstimate.diagnostics."
        )
        fn.ceiling_info = ceiling_info
    return fn


mine_mi_bits = _register("mine", "Belghazi et al. 2018")
nwj_mi_bits = _register("nwj", "Nguyen, Wainwright & Jordan 2010")
infonce_mi_bits = _register("infonce", "van den Oord et al. 2018; Poole et al. 2019")
smile_mi_bits = _register("smile", "Song & Ermon 2020")
