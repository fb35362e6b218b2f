"""Training with capture: the loop that records weights, metrics and gradient statistics.

A run trains in a work directory outside the workflow's declared outputs. At every flush the
work directory holds a consistent resumable state: ``weights.zarr`` (the captured epochs so far),
``metrics.csv`` and ``checkpoint.pt`` (model, optimiser and shuffling-generator state, loaded
with ``weights_only=True``). A killed run resumes from it and ends with results identical to an
uninterrupted run; only a finished run is moved to the declared outputs.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import xarray as xr
from torch import nn

from ..io import zarr_store
from ..io.parameter_names import store_variable
from .gradients import GradientMoments
from .schedules import step_lr

log = logging.getLogger(__name__)


@dataclasses.dataclass
class TrainConfig:
    """How to train. ``batch_size`` 0 means full-batch gradient descent; ``l2`` adds l2 * sum ||W||^2."""

    epochs: int = 8000
    optimizer: str = "adam"
    lr: float = 4e-4
    batch_size: int = 512
    l2: float = 0.0
    seed: int = 0
    flush_every: int = 25  # captures between writes of the resumable state
    momentum: float = 0.0  # SGD momentum (ignored by adam)
    weight_decay: float = 0.0  # the optimiser's decoupled-from-loss decay (sgd and adam), unlike l2
    lr_drop_epochs: tuple[int, ...] = ()  # step schedule: lr x lr_drop_factor at each (schedules.step_lr)
    lr_drop_factor: float = 0.1


OPTIMIZERS = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD}


def make_optimizer(
    name: str, params, lr: float, momentum: float = 0.0, weight_decay: float = 0.0
) -> torch.optim.Optimizer:
    """The optimiser, fused where this torch supports it.

    ``momentum`` applies to sgd; ``weight_decay`` (the optimiser's own, on every parameter) to both.

    A tiny network's step is dominated by per-tensor overhead: the fused Adam is about 5x faster
    on CPU (0.24 ms against 1.2 ms a step here). The choice depends only on the torch version,
    so a run and its resumption take the same path.
    """
    extra = {"weight_decay": weight_decay} if weight_decay else {}
    if name == "sgd" and momentum:
        extra["momentum"] = momentum
    try:
        return OPTIMIZERS[name](params, lr=lr, fused=True, **extra)
    except (RuntimeError, TypeError, ValueError):  # torch too old for fused steps on this device
        return OPTIMIZERS[name](params, lr=lr, **extra)


def weights_snapshot(model: nn.Module, epoch: int) -> xr.Dataset:
    """One capture of every parameter tensor, with a leading ``epoch`` dim of length 1.

    Buffers (batch norm's running statistics, which eval mode uses) are captured too, with
    ``attrs["kind"] = "buffer"``, so that a replay reproduces the model; parameters have kind "parameter".
    """
    params = dict(model.named_parameters())
    # parameters and persistent buffers
    entries = ((name, t, "parameter" if name in params else "buffer") for name, t in model.state_dict().items())
    return tensors_snapshot(entries, epoch)


def parameters_snapshot(named_parameters, epoch: int) -> xr.Dataset:
    """One capture of ``(name, tensor)`` pairs (torch parameter names), with a leading ``epoch`` dim of length 1."""
    return tensors_snapshot(((name, p, "parameter") for name, p in named_parameters), epoch)


def tensors_snapshot(entries, epoch: int) -> xr.Dataset:
    """One capture of ``(torch name, tensor, kind)`` triples; kind is "parameter" or "buffer"."""
    data = {}
    for name, t, kind in entries:
        var = store_variable(name)  # layers.0.weight -> layer0_weight; other names verbatim
        arr = t.detach().cpu().numpy()[None]  # shares memory with the live tensor: the astype copies
        arr = arr.astype(np.float32 if arr.dtype.kind == "f" else arr.dtype, copy=True)
        dims = ("epoch", *[f"{var}_dim{k}" for k in range(arr.ndim - 1)])
        data[var] = xr.Variable(dims, arr, attrs={"kind": kind})
    return xr.Dataset(data, coords={"epoch": np.array([epoch], dtype=np.int64)})


def _evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    if len(y) == 0:
        return float("nan"), float("nan")
    with torch.no_grad():
        logits = model.logits(x)
        loss = nn.functional.cross_entropy(logits, y).item()
        acc = (logits.argmax(1) == y).double().mean().item()
    return loss, acc


def _l2_penalty(model: nn.Module) -> torch.Tensor:
    return sum((layer.weight**2).sum() for layer in model.layers)


def train(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    is_train: torch.Tensor,
    cfg: TrainConfig,
    capture: list[int],
    work_dir: str | Path,
    progress=None,
) -> None:
    """Train ``model`` and record every capture epoch into ``work_dir``; resume if a checkpoint is there.

    x: (n, d) float, y: (n,) int64 labels, is_train: (n,) bool. ``capture``: sorted epochs in
    [0, cfg.epochs]. ``progress``: an optional tqdm-like object updated once per epoch.
    """
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    weights_path, metrics_path, ckpt_path = (
        work_dir / "weights.zarr",
        work_dir / "metrics.csv",
        work_dir / "checkpoint.pt",
    )
    x_train, y_train = x[is_train], y[is_train]
    x_test, y_test = x[~is_train], y[~is_train]
    n_train = len(y_train)
    batch = n_train if cfg.batch_size in (0, None) else min(cfg.batch_size, n_train)
    opt = make_optimizer(cfg.optimizer, list(model.parameters()), cfg.lr, cfg.momentum, cfg.weight_decay)
    shuffle = torch.Generator().manual_seed(cfg.seed)
    capture_set = set(capture)
    rows: list[dict] = []
    start_epoch = 0
    state = torch.load(ckpt_path, weights_only=True) if ckpt_path.exists() else None
    if state is not None:
        # Keep only the captures the checkpoint covers: a kill after the weights or metrics of the
        # next flush were (partly) written, but before its checkpoint, leaves later ones behind.
        rows = _rows_before(metrics_path, int(state["epoch"]))
        if rows is None or not _truncate_store(weights_path, [int(r["epoch"]) for r in rows]):
            log.warning("the resumable state in %s is incomplete; starting over", work_dir)
            state, rows = None, []
    if state is not None:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        shuffle.set_state(state["shuffle"])
        if "torch_rng" in state:
            torch.set_rng_state(state["torch_rng"])
        start_epoch = int(state["epoch"])
        log.info("resuming from the checkpoint at epoch %d (%d captures kept)", start_epoch, len(rows))
        if progress is not None:
            progress.update(start_epoch)
    else:
        for stale in (weights_path, metrics_path, ckpt_path):
            _remove(stale)
    pending: list[xr.Dataset] = []
    moments = GradientMoments(len(model.layers))

    def flush(next_epoch: int) -> None:
        if pending:
            zarr_store.append(xr.concat(pending, dim="epoch"), weights_path)
            pending.clear()
        write_metrics(rows, metrics_path)
        save_checkpoint(
            {
                "model": model.state_dict(),
                "optimizer": opt.state_dict(),
                "shuffle": shuffle.get_state(),
                "torch_rng": torch.get_rng_state(),  # noise of stochastic models (dropout, injection)
                "epoch": next_epoch,
            },
            ckpt_path,
        )

    for epoch in range(start_epoch, cfg.epochs + 1):
        capturing = epoch in capture_set
        if capturing:
            pending.append(weights_snapshot(model, epoch))
            model.eval()
            train_loss, train_acc = _evaluate(model, x_train, y_train)
            test_loss, test_acc = _evaluate(model, x_test, y_test)
            row = {
                "epoch": epoch,
                "train_loss": train_loss,
                "test_loss": test_loss,
                "train_accuracy": train_acc,
                "test_accuracy": test_acc,
            }
            moments.reset()
        if epoch == cfg.epochs:  # the final state: gradients at it, no step taken
            if capturing:
                _epoch_gradients(model, x_train, y_train, batch, cfg, moments, step=None, generator=shuffle)
        else:
            model.train()
            for group in opt.param_groups:  # a function of the epoch: a resumed run gets the same rate
                group["lr"] = step_lr(cfg.lr, epoch, cfg.lr_drop_epochs, cfg.lr_drop_factor)
            _epoch_gradients(
                model, x_train, y_train, batch, cfg, moments if capturing else None, step=opt, generator=shuffle
            )
        if capturing:
            rows.append(row | moments.summary())
            if len(pending) >= cfg.flush_every:
                flush(epoch + 1)
        if progress is not None and epoch < cfg.epochs:
            progress.update(1)
    flush(cfg.epochs + 1)


def write_metrics(rows: list[dict], path: Path) -> None:
    """The metrics table, written whole and then renamed: never half a file."""
    tmp = path.with_suffix(".tmp")
    pd.DataFrame(rows).to_csv(tmp, index=False)
    tmp.replace(path)


def save_checkpoint(state: dict, path: Path) -> None:
    """The resumable state, written whole and then renamed: a kill leaves the previous one."""
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    tmp.replace(path)


def _epoch_gradients(model, x, y, batch, cfg, moments, step, generator) -> None:
    """One pass over shuffled mini-batches: record weight gradients in ``moments``; step if ``step``."""
    order = torch.randperm(len(y), generator=generator)
    for start in range(0, len(y), batch):
        idx = order[start : start + batch]
        loss = nn.functional.cross_entropy(model.logits(x[idx]), y[idx])
        if cfg.l2:
            loss = loss + cfg.l2 * _l2_penalty(model)
        model.zero_grad(set_to_none=True)
        loss.backward()
        if moments is not None:
            moments.add([layer.weight.grad for layer in model.layers])
        if step is not None:
            step.step()


def _rows_before(metrics_path: Path, next_epoch: int) -> list[dict] | None:
    """The metrics rows of captures before ``next_epoch``; None when the file is missing or unreadable."""
    try:
        rows = pd.read_csv(metrics_path).to_dict("records")
    except (OSError, ValueError):
        return None
    return [r for r in rows if int(r["epoch"]) < next_epoch]


def _truncate_store(path: Path, epochs: list[int]) -> bool:
    """Cut the weights store back to the captured ``epochs`` (drop captures beyond the checkpoint).

    Returns False when the store lacks some of them (it is missing or was damaged): start over.
    Only the kept epochs are read, so a chunk left unwritten by a killed append does not matter.
    """
    if not path.exists():
        return not epochs
    try:
        ds = zarr_store.open_store(path, "weights store")
        stored = [int(e) for e in ds["epoch"].values]
        if stored[: len(epochs)] != epochs:
            return False
        if len(stored) == len(epochs):
            return True
        kept = ds.isel(epoch=slice(0, len(epochs))).load()
    except ValueError:
        return False
    tmp = path.with_name(path.name + ".tmp")
    chunks = {
        name: {"chunks": var.encoding["chunks"]} for name, var in ds.variables.items() if "chunks" in var.encoding
    }
    zarr_store.write_new(kept, tmp, chunks)  # the same chunks as the store had: appends go on as before
    _remove(path)
    tmp.rename(path)
    return True


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def publish(work_dir: str | Path, weights_out: str | Path, metrics_out: str | Path) -> None:
    """Move a finished run's weights and metrics to the declared outputs and drop the checkpoint."""
    work_dir = Path(work_dir)
    # The checkpoint goes first: a kill part-way through leaves a work dir that starts over, never
    # one that resumes into a weights store already moved away.
    _remove(work_dir / "checkpoint.pt")
    for src, dst in ((work_dir / "weights.zarr", Path(weights_out)), (work_dir / "metrics.csv", Path(metrics_out))):
        dst.parent.mkdir(parents=True, exist_ok=True)
        _remove(dst)
        shutil.move(str(src), str(dst))
    shutil.rmtree(work_dir)
