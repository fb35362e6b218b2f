"""The staircase experiment of Song & Ermon (2020), "Understanding the limitations of variational
mutual information estimators" (ICLR): how variational bounds track a true MI that steps up.

A ``dim``-dimensional correlated Gaussian: x ~ N(0, I), y = rho x + sqrt(1 - rho^2) eps, so the
MI is split equally over ``dim`` independent coordinate pairs, I(X;Y) = -dim/2 log(1 - rho^2) nats.
Its cubic transform y -> y^3 is one-to-one per coordinate and leaves the MI unchanged. The true
MI steps through ``stages_nats`` (2, 4, 6, 8, 10 nats in the paper), ``steps_per_stage`` steps each
(4000 in the paper); every step draws a fresh batch, takes one Adam step on the critic and records
the bound on that batch (in nats), as the paper's code does.

Methods (the bounds and critics come from :mod:`infoplane.estimators.variational`):

- ``mine``: the Donsker-Varadhan bound, trained with MINE's moving-average correction of the
  gradient of log E_q[e^f] (Belghazi et al. 2018); the estimate is the DV bound of the batch.
- ``nwj``: trained and evaluated with the NWJ bound (Nguyen, Wainwright & Jordan 2010).
- ``infonce``: trained and evaluated with InfoNCE, which can never exceed log(batch size).
- ``smile``: the critic is trained with the Jensen-Shannon objective only; the estimate is the DV
  bound with the partition term's e^f clipped to [e^-tau, e^tau]. The training gradient does not
  depend on tau, so one critic gives SMILE for every tau in ``smile_taus`` (rows ``smile_tau1``,
  ``smile_tau5``, ``smile_tauinf``: tau = infinity is the plain DV bound of a JS-trained critic).

Within one (transform, seed) every method sees the same sequence of batches and starts from the
same initialisation, so differences between methods are not differences of data.
"""

from __future__ import annotations

import logging
import math
import time

import pandas as pd
import torch
from torch import nn

from ..estimators.base import resolve_device
from ..estimators.variational import (
    ConcatCritic,
    SeparableCritic,
    dv_bound,
    infonce_bound,
    js_objective,
    nwj_bound,
)

log = logging.getLogger(__name__)

STAIRCASE_METHODS = ("mine", "nwj", "infonce", "smile")
CRITICS = ("separable", "concat")
TRANSFORMS = ("gaussian", "cubic")

# Laptop size; the published scale is config/paper/variational_limits.yaml. The workflow's
# defaults (workflow/schemas/config.schema.yaml, key variational_limits) equal these (a test checks).
DEFAULTS = {
    "stages_nats": [2.0, 4.0, 6.0, 8.0, 10.0],
    "steps_per_stage": 400,
    "batch_size": 64,
    "dim": 20,
    "methods": list(STAIRCASE_METHODS),
    "smile_taus": [1.0, 5.0, math.inf],
    "critics": list(CRITICS),
    "transforms": list(TRANSFORMS),
    "hidden": 64,
    "layers": 2,
    "embed": 32,
    "lr": 5e-4,
    "ma_rate": 0.1,
    "seeds": [0, 1],
    "variance_fraction": 0.5,
    "smoothing": 0.9,
    "device": "auto",
}

COLUMNS = [
    "step", "stage", "true_mi_nats", "method", "critic", "transform", "seed", "estimate_nats",
    "batch_size", "log_batch_nats", "run_diverged",
]  # fmt: skip


def rho_from_mi_nats(mi_nats: float, dim: int) -> float:
    """The per-coordinate correlation that gives ``dim`` pairs a total MI of ``mi_nats``."""
    if mi_nats < 0 or dim < 1:
        raise ValueError(f"need mi_nats >= 0 and dim >= 1, got mi_nats={mi_nats}, dim={dim}")
    return math.sqrt(1.0 - math.exp(-2.0 * mi_nats / dim))


def gaussian_mi_nats(rho: float, dim: int) -> float:
    """I(X;Y) in nats of ``dim`` independent coordinate pairs of correlation ``rho``."""
    return -0.5 * dim * math.log(1.0 - rho**2)


def sample_staircase(
    n: int, mi_nats: float, dim: int, transform: str = "gaussian", generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """n samples of the correlated Gaussian with total MI ``mi_nats``; x, y: (n, dim) float32.

    transform: ``gaussian`` (y as drawn) or ``cubic`` (y -> y^3; the MI is unchanged).
    """
    if transform not in TRANSFORMS:
        raise ValueError(f"variational_limits.transforms: unknown transform {transform!r}; known: {list(TRANSFORMS)}")
    rho = rho_from_mi_nats(mi_nats, dim)
    x = torch.randn(n, dim, generator=generator)
    eps = torch.randn(n, dim, generator=generator)
    y = rho * x + math.sqrt(1.0 - rho**2) * eps
    if transform == "cubic":
        y = y**3
    return x, y


def method_labels(method: str, smile_taus) -> list[str]:
    """The ``method`` values a run writes: one per tau for SMILE (``smile_tau5``, ``smile_tauinf``)."""
    if method != "smile":
        return [method]
    return [f"smile_tau{'inf' if math.isinf(t) else f'{t:g}'}" for t in smile_taus]


def _critic(kind: str, dim: int, hidden: int, layers: int, embed: int) -> nn.Module:
    if kind == "separable":
        return SeparableCritic(dim, dim, hidden, embed, layers)
    if kind == "concat":
        return ConcatCritic(dim, dim, hidden, layers)
    raise ValueError(f"variational_limits.critics: unknown critic {kind!r}; known: {list(CRITICS)}")


def run_staircase(
    method: str,
    critic: str,
    transform: str,
    seed: int,
    stages_nats=DEFAULTS["stages_nats"],
    steps_per_stage: int = DEFAULTS["steps_per_stage"],
    batch_size: int = DEFAULTS["batch_size"],
    dim: int = DEFAULTS["dim"],
    smile_taus=DEFAULTS["smile_taus"],
    hidden: int = DEFAULTS["hidden"],
    layers: int = DEFAULTS["layers"],
    embed: int = DEFAULTS["embed"],
    lr: float = DEFAULTS["lr"],
    ma_rate: float = DEFAULTS["ma_rate"],
    device: str = "cpu",
) -> pd.DataFrame:
    """Train one critic through the staircase; one row per step (and per tau for SMILE), in nats.

    device: where the critic trains (``auto``: CUDA when present); batches are drawn on the CPU
    from the seed, so every device sees the same data.

    A critic whose scores stop being finite has diverged: its run stops there and its rows say
    ``run_diverged``, so that no NaN enters the table.
    """
    if method not in STAIRCASE_METHODS:
        raise ValueError(f"variational_limits.methods: unknown method {method!r}; known: {list(STAIRCASE_METHODS)}")
    if batch_size < 2 or steps_per_stage < 1:
        raise ValueError(f"need batch_size >= 2 and steps_per_stage >= 1, got {batch_size}, {steps_per_stage}")
    taus = [float(t) for t in smile_taus]
    if any(not t > 0 for t in taus):
        raise ValueError(f"variational_limits.smile_taus: every tau must be > 0 (.inf for no clipping), got {taus}")
    data = torch.Generator().manual_seed(int(seed))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        model = _critic(critic, dim, hidden, layers, embed)
    device = resolve_device(device)
    model = model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    labels = method_labels(method, taus)
    steps, stages, truths, estimates = [], [], [], {label: [] for label in labels}
    ma = None
    diverged = False
    step = 0
    for stage, mi_nats in enumerate(stages_nats):
        for _ in range(steps_per_stage):
            x, y = sample_staircase(batch_size, float(mi_nats), dim, transform, data)
            x, y = x.to(device), y.to(device)
            s = model.scores(x, y)
            if not torch.isfinite(s).all():
                diverged = True
                break
            with torch.no_grad():
                s64 = s.detach().to(torch.float64)
                if method == "nwj":
                    values = [nwj_bound(s64)]
                elif method == "infonce":
                    values = [infonce_bound(s64)]
                elif method == "mine":
                    values = [dv_bound(s64)]
                else:
                    values = [dv_bound(s64, None if math.isinf(t) else t) for t in taus]
            if method == "mine":
                # MINE: the gradient of log E_q[e^f] is biased on a batch; divide by a moving average instead.
                off = s.masked_select(~torch.eye(s.shape[0], dtype=torch.bool, device=device))
                batch_mean = torch.exp(torch.logsumexp(off, 0) - math.log(off.numel()))
                ma = batch_mean.detach() if ma is None else (1 - ma_rate) * ma + ma_rate * batch_mean.detach()
                loss = -(s.diagonal().mean() - batch_mean / ma)
            elif method == "smile":
                loss = -js_objective(s)
            elif method == "nwj":
                loss = -nwj_bound(s)
            else:
                loss = -infonce_bound(s)
            if not all(math.isfinite(float(v)) for v in values) or not torch.isfinite(loss):
                diverged = True
                break
            for label, v in zip(labels, values, strict=True):
                estimates[label].append(float(v))
            steps.append(step)
            stages.append(stage)
            truths.append(float(mi_nats))
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
        if diverged:
            log.warning("%s, %s critic, %s, seed %d: scores not finite at step %d; run stopped",
                        method, critic, transform, seed, step)  # fmt: skip
            break
    frames = [
        pd.DataFrame(
            {"step": steps, "stage": stages, "true_mi_nats": truths, "method": label, "estimate_nats": estimates[label]}
        )
        for label in labels
    ]
    out = pd.concat(frames, ignore_index=True)
    out["critic"], out["transform"], out["seed"] = critic, transform, int(seed)
    out["batch_size"], out["log_batch_nats"] = int(batch_size), math.log(batch_size)
    out["run_diverged"] = diverged
    return out[COLUMNS]


def staircase_table(
    transforms=DEFAULTS["transforms"],
    seeds=DEFAULTS["seeds"],
    methods=DEFAULTS["methods"],
    critics=DEFAULTS["critics"],
    **settings,
) -> pd.DataFrame:
    """Every (method, critic, transform, seed) through the staircase: the tidy per-step table.

    settings: the keyword arguments of :func:`run_staircase` (stages_nats, steps_per_stage, ...).
    Training runs on one thread: a critic this small loses more to thread synchronisation than it gains.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        frames = []
        for transform in transforms:
            for seed in seeds:
                for critic in critics:
                    for method in methods:
                        t0 = time.perf_counter()
                        frames.append(run_staircase(method, critic, transform, int(seed), **settings))
                        log.info("%s, %s critic, %s, seed %s: %.1f s",
                                 method, critic, transform, seed, time.perf_counter() - t0)  # fmt: skip
    finally:
        torch.set_num_threads(threads)
    return pd.concat(frames, ignore_index=True)
