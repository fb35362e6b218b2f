"""Learning-rate schedules and the large-batch regime rules of Hoffer, Hubara & Soudry (2017).

Not the capture schedule (which epochs are recorded): that is :mod:`infoplane.training.schedule`.

Epoch e of training is the pass that starts after e completed epochs. A step schedule multiplies
the learning rate by ``factor`` at each drop epoch: the pass of epoch e runs at
``lr * factor ** (number of drop epochs <= e)``. It is a function of the epoch alone, so a resumed
run gets the same rates with no scheduler state to save.

From a reference batch size B0 to a batch size B:

- the sqrt rule scales the learning rate by sqrt(B / B0), keeping the covariance of the weight
  updates, and so their diffusion, as it was at B0;
- regime adaptation scales the epochs and the drop epochs by B / B0, so the large batch takes the
  same number of updates, on the same update-count schedule, as the small one.
"""

from __future__ import annotations

import dataclasses
import math


def step_lr(lr: float, epoch: int, drop_epochs, factor: float) -> float:
    """The learning rate of the pass of epoch ``epoch``: ``lr * factor ** #{d in drop_epochs : d <= epoch}``."""
    return lr * factor ** sum(1 for d in drop_epochs if d <= epoch)


def updates_per_epoch(n_train: int, batch_size: int) -> int:
    """Optimiser steps in one pass over ``n_train`` rows (the last batch may be short); 0: full batch."""
    if n_train < 1:
        raise ValueError(f"n_train must be at least 1, got {n_train}")
    batch = n_train if batch_size in (0, None) else min(int(batch_size), n_train)
    return math.ceil(n_train / batch)


@dataclasses.dataclass(frozen=True)
class Regime:
    """A training regime: learning rate, epochs and learning-rate drop epochs."""

    lr: float
    epochs: int
    drop_epochs: tuple[int, ...]


def adapt_regime(
    lr: float,
    epochs: int,
    drop_epochs,
    batch_size: int,
    reference_batch_size: int,
    sqrt_lr: bool = False,
    adapt_epochs: bool = False,
) -> Regime:
    """The regime at ``batch_size`` B from one tuned at ``reference_batch_size`` B0.

    ``sqrt_lr``: lr x sqrt(B / B0). ``adapt_epochs`` (regime adaptation): epochs and every drop epoch
    x B / B0, rounded to the nearest integer (epochs at least 1). B is the effective batch size
    (the training rows for full batch).
    """
    if reference_batch_size is None or reference_batch_size <= 0:
        raise ValueError(f"reference_batch_size (B0) must be a positive integer, got {reference_batch_size}")
    if batch_size <= 0:
        raise ValueError(f"batch_size must be positive here (the effective batch), got {batch_size}")
    ratio = batch_size / reference_batch_size
    drops = tuple(int(d) for d in drop_epochs)
    if sqrt_lr:
        lr = lr * math.sqrt(ratio)
    if adapt_epochs:
        epochs = max(1, round(epochs * ratio))
        drops = tuple(round(d * ratio) for d in drops)
    return Regime(lr=float(lr), epochs=int(epochs), drop_epochs=drops)


def run_regime(training: dict, n_train: int) -> tuple[int, Regime]:
    """(effective batch size, regime) of a run's ``training`` config section on ``n_train`` rows.

    The keys read: lr, epochs, batch_size (0: full batch), lr_drop_epochs, sqrt_lr, adapt_regime,
    reference_batch_size (needed by either rule). Without either rule the regime is as configured.
    """
    batch = n_train if training.get("batch_size") in (0, None) else min(int(training["batch_size"]), n_train)
    drops = tuple(int(d) for d in training.get("lr_drop_epochs") or ())
    sqrt_lr, adapt = bool(training.get("sqrt_lr")), bool(training.get("adapt_regime"))
    if not (sqrt_lr or adapt):
        return batch, Regime(lr=float(training["lr"]), epochs=int(training["epochs"]), drop_epochs=drops)
    regime = adapt_regime(
        training["lr"], training["epochs"], drops, batch, training.get("reference_batch_size"), sqrt_lr, adapt
    )
    return batch, regime
