"""Group training: many runs of one shape trained as one vectorised model.

The networks of this literature are tiny (12-10-7-5-4-3-2 has 300 weights): one alone cannot keep
a core busy, and the time goes to per-call overhead. Runs that share the dataset, the layer
widths, the optimiser and the capture schedule train here as one stacked MLP: every layer's
weights are a ``(runs, out, in)`` tensor, each run's mini-batch is gathered by its own shuffling
order, and one batched matrix product per layer serves all of them. The runs may differ in seed,
activation and ``l2``. Each run keeps what it would have alone:

- its initialisation (built exactly as :mod:`scripts.train` builds a run: ``torch.manual_seed(seed)``
  then the model), and its shuffling generator (seeded with its own seed, one permutation per epoch);
- its optimiser state: Adam and SGD are elementwise, so one optimiser over stacked tensors keeps
  each run's moments in its own slice, and each run's loss term only reaches its own slice;
- its capture epochs, metrics and gradient statistics, written to its own work directory in the
  same files as :func:`infoplane.training.train` writes, and published to the same outputs.

So a run trained in a group equals the run trained alone up to float reassociation (batched
against single matrix products). The group's resumable state is one checkpoint in the group's
work directory, written after every run's stores: a killed group resumes as one run does.

Models that cannot be stacked (a user's ``model.factory`` module, stochastic models, models with
buffers such as batch-norm statistics, any training setting this module does not know) train one
at a time with :func:`infoplane.training.train`, inside the same call: see :func:`why_not_batchable`.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import numpy as np
import torch
import xarray as xr
from torch import nn

from ..io import zarr_store
from ..models.mlp import MLP
from ..models.stacked import StackedMLP
from .gradients import StackedGradientMoments
from .schedules import run_regime
from .train import (
    TrainConfig,
    _evaluate,
    _remove,
    _rows_before,
    _truncate_store,
    make_optimizer,
    parameters_snapshot,
    publish,
    save_checkpoint,
    train,
    write_metrics,
)

log = logging.getLogger(__name__)

# Sweep keys whose values may differ inside one vectorised group of MLPs (each run has its own).
BATCHABLE_SWEEP = {"seed": ("training", "seed"), "activation": ("model", "activation"), "l2": ("training", "l2")}
# The training settings this module implements; any other one set (a schedule, say) falls back to one at a time.
KNOWN_TRAINING = {"epochs", "optimizer", "lr", "batch_size", "l2", "seed", "momentum", "weight_decay"}
# Settings every run of a vectorised group must share.
SHARED_TRAINING = ("epochs", "optimizer", "lr", "batch_size", "momentum", "weight_decay")
# Settings that do nothing unless another is set: the factor of the learning-rate drops without drops,
# and the reference batch size without sqrt_lr or adapt_regime (which are not vectorised themselves).
INERT_UNLESS = {"lr_drop_factor": ("lr_drop_epochs",), "reference_batch_size": ("sqrt_lr", "adapt_regime")}


def _is_set(value) -> bool:
    """A setting is set unless null, false, zero or empty."""
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, (int, float)):
        return value != 0
    return len(value) > 0 if isinstance(value, (str, list, tuple)) else True


def unvectorised_settings(training: dict) -> list[str]:
    """The settings of a ``training`` config section that are set and that a vectorised group does not implement."""
    return sorted(
        key
        for key, value in training.items()
        if key not in KNOWN_TRAINING
        and _is_set(value)
        and not (key in INERT_UNLESS and not any(_is_set(training.get(k)) for k in INERT_UNLESS[key]))
    )


@dataclasses.dataclass
class Member:
    """One run of a group: its name, its freshly initialised model, how it trains, and where."""

    name: str
    model: nn.Module
    cfg: TrainConfig
    work_dir: Path
    # the global RNG state right after the model was built, as a run alone trains from it (stochastic
    # models draw their noise from it); None: leave the RNG as it is
    rng_state: tuple | None = None


def training_config(run_config: dict, n_train: int) -> TrainConfig:
    """The :class:`TrainConfig` of a run config (its ``training`` section) on ``n_train`` training rows, as
    every training job builds it: the step schedule, and the sqrt-lr rule and regime adaptation from a
    reference batch size (Hoffer et al. 2017), applied."""
    section = run_config["training"]
    cfg = TrainConfig(**{k: section[k] for k in ("epochs", "optimizer", "lr", "batch_size", "l2", "seed")})
    cfg.momentum = float(section.get("momentum", 0.0))
    cfg.weight_decay = float(section.get("weight_decay", 0.0))
    cfg.seed = int(cfg.seed)
    _, regime = run_regime(section, n_train)
    cfg.lr, cfg.epochs, cfg.lr_drop_epochs = regime.lr, regime.epochs, regime.drop_epochs
    cfg.lr_drop_factor = float(section.get("lr_drop_factor", 0.1))
    return cfg


def build_member(name: str, run_config: dict, dataset, work_dir: str | Path, device="cpu") -> Member:
    """A run as the training job of a single run starts it: ``torch.manual_seed(seed)``, then its model."""
    from ..models import model_for_dataset  # models import training-free modules only; keep the import local

    cfg = training_config(run_config, int(dataset["is_train"].values.sum()))
    torch.manual_seed(cfg.seed)
    model = model_for_dataset(run_config["model"], dataset).to(device)
    return Member(name, model, cfg, Path(work_dir), rng_state=_rng_state())


def _rng_state() -> tuple:
    return torch.get_rng_state(), torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None


def _set_rng_state(state: tuple) -> None:
    torch.set_rng_state(state[0])
    if state[1] is not None:
        torch.cuda.set_rng_state_all(state[1])


def group_key(run_config: dict) -> str:
    """What runs of one group share: the run config without the values a vectorised group may vary.

    Only MLPs vary activation and l2 inside a group; other families group by seed only (and then
    train one at a time, which still saves a job and its imports per run).
    """
    cfg = {section: dict(values) for section, values in run_config.items()}
    keys = BATCHABLE_SWEEP if _is_mlp_config(cfg["model"]) else {"seed": BATCHABLE_SWEEP["seed"]}
    for section, field in keys.values():
        cfg[section].pop(field, None)
    return repr(sorted((section, sorted(values.items(), key=str)) for section, values in cfg.items()))


def _is_mlp_config(model_config: dict) -> bool:
    return not model_config.get("factory") and model_config.get("name", "mlp") == "mlp"


def vectorisable(run_config: dict) -> bool:
    """Whether a run config is of the family a group trains as one model (plain MLPs, known settings only).

    The group job checks the built models again (:func:`why_not_batchable`); this is for planning.
    """
    training = run_config["training"]
    return _is_mlp_config(run_config["model"]) and not unvectorised_settings(training)


def plan_groups(run_configs: dict[str, dict], size: int, inputs: dict[str, str] | None = None) -> list[list[str]]:
    """Runs (in the given order) split into groups of at most ``size`` runs sharing :func:`group_key`.

    ``inputs``: each run's dataset (runs reading different stores never share a group).
    """
    if size < 1:
        raise ValueError(f"group size must be at least 1, got {size}")
    by_key: dict[str, list[str]] = {}
    for run, cfg in run_configs.items():
        by_key.setdefault(group_key(cfg) + repr((inputs or {}).get(run)), []).append(run)
    return [runs[i : i + size] for runs in by_key.values() for i in range(0, len(runs), size)]


def why_not_batchable(members: list[Member], training_configs: list[dict] | None = None) -> str | None:
    """None when the members can train as one stacked MLP, else the reason they train one at a time."""
    if len(members) < 2:
        return "a group of one"
    for config in training_configs or []:
        unknown = unvectorised_settings(config)
        if unknown:
            return f"training settings {unknown} are not vectorised"
    first = members[0]
    for m in members:
        if type(m.model) is not MLP:
            return f"{type(m.model).__name__} is not a plain MLP (user modules and stochastic models train alone)"
        if list(m.model.buffers()):
            return "the model has buffers (e.g. batch-norm statistics)"
        extra = [type(mod).__name__ for mod in m.model.modules() if not _stackable_module(mod, m.model)]
        if extra:
            return f"the model holds modules the stacked MLP does not know: {sorted(set(extra))}"
        widths = [(layer.in_features, layer.out_features) for layer in m.model.layers]
        if widths != [(layer.in_features, layer.out_features) for layer in first.model.layers]:
            return "the layer widths differ"
        if any(layer.bias is None for layer in m.model.layers):
            return "a layer has no bias"
        for key in SHARED_TRAINING:
            if getattr(m.cfg, key) != getattr(first.cfg, key):
                return f"training.{key} differs between runs"
    return None


def _stackable_module(module: nn.Module, model: nn.Module) -> bool:
    return module is model or module is model.layers or module is model.activation or type(module) is nn.Linear


def train_group(
    members: list[Member],
    x: torch.Tensor,
    y: torch.Tensor,
    is_train: torch.Tensor,
    capture: list[int],
    group_dir: str | Path,
    training_configs: list[dict] | None = None,
    progress=None,
) -> str:
    """Train every member, vectorised when :func:`why_not_batchable` allows, else one at a time.

    x: (n, d) float, y: (n,) int64, is_train: (n,) bool, shared by all members; ``capture`` as for
    :func:`infoplane.training.train`. Each member's work dir ends with its ``weights.zarr`` and
    ``metrics.csv`` (publish with :func:`publish_group`). ``group_dir`` holds the group's
    checkpoint. ``training_configs``: the members' ``training`` config sections, to refuse settings
    this module does not implement. Returns "vectorised" or "one at a time: <reason>".
    """
    reason = why_not_batchable(members, training_configs)
    if reason is not None:
        log.info("training %d run(s) one at a time (%s)", len(members), reason)
        for m in members:
            log.info("run %s", m.name)
            if m.rng_state is not None:
                _set_rng_state(m.rng_state)
            train(m.model, x, y, is_train, m.cfg, capture, m.work_dir, progress=progress)
        return f"one at a time: {reason}"
    log.info("training %d runs as one vectorised model", len(members))
    _train_stacked(members, x, y, is_train, capture, Path(group_dir), progress)
    return "vectorised"


def publish_group(members: list[Member], group_dir: str | Path, outputs: dict[str, tuple[str, str]]) -> None:
    """Move each finished run to its declared outputs: ``outputs[name] = (weights path, metrics path)``.

    The group checkpoint goes first, so a kill part-way through starts the group over.
    """
    group_dir = Path(group_dir)
    _remove(group_dir / "checkpoint.pt")
    for m in members:
        publish(m.work_dir, *outputs[m.name])
    if group_dir.exists() and not any(group_dir.iterdir()):
        group_dir.rmdir()


def _train_stacked(members, x, y, is_train, capture, group_dir: Path, progress) -> None:
    cfg = members[0].cfg
    names = [m.name for m in members]
    group_dir.mkdir(parents=True, exist_ok=True)
    ckpt_path = group_dir / "checkpoint.pt"
    for m in members:
        m.work_dir.mkdir(parents=True, exist_ok=True)
    x_train, y_train = x[is_train], y[is_train]
    x_test, y_test = x[~is_train], y[~is_train]
    n_train = len(y_train)
    batch = n_train if cfg.batch_size in (0, None) else min(cfg.batch_size, n_train)
    model = StackedMLP([m.model for m in members]).to(x.device)
    opt = make_optimizer(cfg.optimizer, list(model.parameters()), cfg.lr, cfg.momentum, cfg.weight_decay)
    shuffles = [torch.Generator().manual_seed(m.cfg.seed) for m in members]
    l2 = torch.tensor([m.cfg.l2 for m in members], dtype=x.dtype, device=x.device)
    capture_set = set(capture)
    rows: list[list[dict]] = [[] for _ in members]
    start_epoch = 0
    state = torch.load(ckpt_path, weights_only=True) if ckpt_path.exists() else None
    if state is not None and list(state.get("runs", [])) != names:
        log.warning("the group checkpoint in %s is for other runs; starting over", group_dir)
        state = None
    if state is not None:
        # as train(): keep only the captures the checkpoint covers, in every run's stores
        for g, m in enumerate(members):
            kept = _rows_before(m.work_dir / "metrics.csv", int(state["epoch"]))
            if kept is None or not _truncate_store(m.work_dir / "weights.zarr", [int(r["epoch"]) for r in kept]):
                log.warning("the resumable state of %s is incomplete; starting the group over", m.name)
                state = None
                break
            rows[g] = kept
    if state is not None:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        for gen, s in zip(shuffles, state["shuffle"], strict=True):
            gen.set_state(s)
        start_epoch = int(state["epoch"])
        log.info("resuming from the checkpoint at epoch %d (%d captures kept)", start_epoch, len(rows[0]))
        if progress is not None:
            progress.update(start_epoch)
    else:
        rows = [[] for _ in members]
        _remove(ckpt_path)
        for m in members:
            for stale in ("weights.zarr", "metrics.csv", "checkpoint.pt"):
                _remove(m.work_dir / stale)
    pending: list[tuple[int, list]] = []  # the captures since the last flush, all runs' weights in each
    moments = StackedGradientMoments(len(model.weights))

    def flush(next_epoch: int) -> None:
        for g, m in enumerate(members):
            if pending:
                zarr_store.append(_run_weights(pending, g), m.work_dir / "weights.zarr")
            write_metrics(rows[g], m.work_dir / "metrics.csv")
        pending.clear()
        # last: the checkpoint says which captures every run's stores hold
        save_checkpoint(
            {
                "model": model.state_dict(),
                "optimizer": opt.state_dict(),
                "shuffle": [gen.get_state() for gen in shuffles],
                "epoch": next_epoch,
                "runs": names,
            },
            ckpt_path,
        )

    for epoch in range(start_epoch, cfg.epochs + 1):
        capturing = epoch in capture_set
        if capturing:
            new_rows = _capture(model, epoch, x_train, y_train, x_test, y_test, pending)
            moments.reset()
        if epoch == cfg.epochs:  # the final state: gradients at it, no step taken
            if capturing:
                _stacked_epoch(model, x_train, y_train, batch, l2, moments, None, shuffles)
        else:
            _stacked_epoch(model, x_train, y_train, batch, l2, moments if capturing else None, opt, shuffles)
        if capturing:
            for g in range(len(members)):
                rows[g].append(new_rows[g] | moments.summary(g))
            if len(pending) >= cfg.flush_every:
                flush(epoch + 1)
        if progress is not None and epoch < cfg.epochs:
            progress.update(1)
    flush(cfg.epochs + 1)


def _capture(model: StackedMLP, epoch, x_train, y_train, x_test, y_test, pending) -> list[dict]:
    """Append all runs' weights to ``pending`` and return each run's metrics row (as train() computes them)."""
    rows = []
    with torch.no_grad():
        # contiguous (G, B, classes), as each run alone has its logits: the per-run scores below are
        # then 10x faster than on slices of the transposed view
        train_logits = model.logits(x_train).contiguous() if len(y_train) else None
        test_logits = model.logits(x_test).contiguous() if len(y_test) else None
    # one float32 copy of each stacked tensor, under the names of run 0's parameters
    pending.append(
        (epoch, [(name, t.detach().cpu().numpy().astype(np.float32)) for name, t in model.stacked_parameters()])
    )
    for g in range(model.n_runs):
        train_loss, train_acc = _scores(None if train_logits is None else train_logits[g], y_train)
        test_loss, test_acc = _scores(None if test_logits is None else test_logits[g], y_test)
        rows.append(
            {
                "epoch": epoch,
                "train_loss": train_loss,
                "test_loss": test_loss,
                "train_accuracy": train_acc,
                "test_accuracy": test_acc,
            }
        )
    return rows


class _Logits(nn.Module):
    """Precomputed logits behind the ``logits(x)`` protocol, so scores share train()'s ``_evaluate``."""

    def __init__(self, logits: torch.Tensor):
        super().__init__()
        self._logits = logits

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        return self._logits


def _scores(logits: torch.Tensor | None, y: torch.Tensor) -> tuple[float, float]:
    return _evaluate(_Logits(logits), None, y) if logits is not None else (float("nan"), float("nan"))


def _run_weights(pending: list[tuple[int, list]], g: int) -> xr.Dataset:
    """Run ``g``'s weights at the pending captures: what :func:`parameters_snapshot` of each capture,
    concatenated along ``epoch``, gives for that run alone (one Dataset per flush, not per capture)."""
    epochs = np.array([epoch for epoch, _ in pending], dtype=np.int64)
    first = parameters_snapshot(((name, torch.from_numpy(a[g])) for name, a in pending[0][1]), int(epochs[0]))
    data = {}
    for k, var in enumerate(first.data_vars):
        values = np.stack([tensors[k][1][g] for _, tensors in pending])
        data[var] = xr.Variable(first[var].dims, values, attrs=first[var].attrs)
    return xr.Dataset(data, coords={"epoch": epochs})


def _stacked_epoch(model: StackedMLP, x, y, batch, l2, moments, step, generators) -> None:
    """One pass over each run's own shuffled mini-batches; record weight gradients per run; step if ``step``."""
    orders = torch.stack([torch.randperm(len(y), generator=gen) for gen in generators]).to(x.device)
    use_l2 = bool((l2 != 0).any())
    for start in range(0, len(y), batch):
        idx = orders[:, start : start + batch]  # (G, B): each run's batch
        n_runs, size = idx.shape
        # rows gathered whole (3x faster than gathering feature-major), then viewed as (G, d, B):
        # the batched products read the transposed view as it is
        inputs = x.index_select(0, idx.reshape(-1)).view(n_runs, size, -1).transpose(1, 2)
        logits = model.forward_t(inputs)  # (G, classes, B)
        # the sum over runs of each run's mean loss: each run's gradient is its own loss's
        loss = nn.functional.cross_entropy(logits, y[idx], reduction="none").mean(1)
        if use_l2:
            loss = loss + l2 * sum((w**2).sum((1, 2)) for w in model.weights)
        model.zero_grad(set_to_none=True)
        loss.sum().backward()
        if moments is not None:
            moments.add([w.grad for w in model.weights])
        if step is not None:
            step.step()
