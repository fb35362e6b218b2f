"""Models from the user's own code: ``model: {factory: "package.module:function", kwargs: {...}, capture: [...]}``.

The factory is any importable callable returning a ``torch.nn.Module`` whose ``forward(x)`` gives
the logits (n, n_classes) from inputs shaped as the dataset's ``x`` (n, feature...). It is called
with ``kwargs``, plus ``n_inputs`` (features per sample), ``n_classes`` and ``input_shape`` (a
sample's shape) when its signature names them (or takes ``**kwargs``) and ``kwargs`` does not set
them. :class:`CapturedModel` wraps the module in the model protocol:

- ``forward(x)`` returns the outputs of the captured modules, each flattened to (n, units), then
  the softmax of the logits: [T_1, ..., T_L]. Representations are taken by forward hooks on the
  modules named in ``capture`` (names of ``named_modules()``, e.g. ``encoder.2``), in that order;
  by default every top-level child whose output is not the logits themselves.
- ``logits(x)`` is the module's own output.
- ``layers`` holds every submodule with a ``.weight`` parameter (all of them, captured or not), in
  ``named_modules()`` order: training records their gradient statistics and ``l2`` penalises them.

Safety: the factory is imported, and so runs code, only from a config the user passes to the
workflow (a ``model.factory`` string); nothing is imported from data files or stores. The
working directory is put on ``sys.path`` for the import, so a package beside the Snakefile works.
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
from collections.abc import Callable

import torch
import xarray as xr
from torch import nn

INJECTED = ("n_inputs", "n_classes", "input_shape")


class FactoryError(ValueError):
    """A ``model.factory`` that cannot build a model; the message names the config key."""


def resolve_factory(spec: str, key: str = "model.factory") -> Callable[..., nn.Module]:
    """The callable named by ``"package.module:function"`` (``function`` may be dotted: ``Class.build``)."""
    if not isinstance(spec, str) or spec.count(":") != 1 or not all(spec.split(":")):
        raise FactoryError(f"{key}: expected 'package.module:function', got {spec!r}")
    module_name, attr = spec.split(":")
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        obj = importlib.import_module(module_name)
    except Exception as err:  # noqa: BLE001  (any failure of the user's import is reported the same way)
        raise FactoryError(f"{key}: cannot import module {module_name!r}: {type(err).__name__}: {err}") from err
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise FactoryError(f"{key}: module {module_name!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise FactoryError(f"{key}: {spec!r} is not callable")
    return obj


def _call_factory(fn: Callable, kwargs: dict, injected: dict, key: str) -> nn.Module:
    params = inspect.signature(fn).parameters
    takes_any = any(p.kind == p.VAR_KEYWORD for p in params.values())
    extra = {k: v for k, v in injected.items() if k not in kwargs and (takes_any or k in params)}
    try:
        module = fn(**kwargs, **extra)
    except TypeError as err:
        raise FactoryError(f"{key}: calling it with model.kwargs {sorted(kwargs)} failed: {err}") from err
    if not isinstance(module, nn.Module):
        raise FactoryError(f"{key}: returned {type(module).__name__}, not a torch.nn.Module")
    return module


class CapturedModel(nn.Module):
    """A user's module in the model protocol; see the module docstring.

    net: maps x (n, feature...) to logits (n, n_classes). capture: names of its submodules whose
    outputs are the representations, or None for the default. probe: a few input rows run once
    (no grad, eval mode) to check the names and drop the default children that return the logits.
    """

    def __init__(self, net: nn.Module, capture: list[str] | None, probe: torch.Tensor, n_classes: int):
        super().__init__()
        self.net = net
        modules = dict(net.named_modules())
        if capture is not None:
            unknown = [name for name in capture if name not in modules or name == ""]
            if unknown:
                names = [n for n in modules if n]
                raise FactoryError(
                    f"model.capture: no module named {unknown} in the network; its modules: {names[:40]}"
                    f"{' ...' if len(names) > 40 else ''}"
                )
            names = list(capture)
        else:
            names = [name for name, _ in net.named_children()]
        self._captured: list[torch.Tensor | None] = [None] * len(names)
        self._names = names
        for i, name in enumerate(names):
            modules[name].register_forward_hook(self._hook(i))
        fired, is_logits = self._probe(probe, n_classes)
        missing = [n for n, f in zip(names, fired, strict=True) if not f]
        if capture is not None and missing:
            raise FactoryError(f"model.capture: modules {missing} are not called by the network's forward")
        if capture is None:
            keep = [f and not lg for f, lg in zip(fired, is_logits, strict=True)]
            self._names = [n for n, k in zip(names, keep, strict=True) if k]
            self._index = [i for i, k in enumerate(keep) if k]
        else:
            self._index = list(range(len(names)))
        weighted = [m for m in net.modules() if isinstance(getattr(m, "weight", None), nn.Parameter)]
        if not weighted:
            raise FactoryError("model.factory: the network has no module with a .weight parameter")
        # Not registered as a child: its parameters already belong to self.net, and registering them
        # twice would put a second copy of each in state_dict().
        object.__setattr__(self, "_layers", nn.ModuleList(weighted))

    @property
    def layers(self) -> nn.ModuleList:
        return self._layers

    @property
    def captured_names(self) -> list[str]:
        """The module names of the representations T_1..T_{L-1} (T_L is the softmax output)."""
        return list(self._names)

    def _hook(self, i: int):
        def hook(module, args, output):
            if isinstance(output, tuple | list) and output and isinstance(output[0], torch.Tensor):
                output = output[0]
            if not isinstance(output, torch.Tensor):
                raise FactoryError(
                    f"model.capture: module {self._names[i]!r} returned {type(output).__name__}, not a tensor"
                )
            self._captured[i] = output

        return hook

    def _probe(self, x: torch.Tensor, n_classes: int) -> tuple[list[bool], list[bool]]:
        was_training = self.training
        self.eval()
        try:
            with torch.no_grad():
                logits = self._run(x)
        finally:
            self.train(was_training)
        if logits.ndim != 2 or logits.shape[1] != n_classes:
            raise FactoryError(
                f"model.factory: the network's output must be logits (n, {n_classes}) for {n_classes} classes, "
                f"got shape {tuple(logits.shape)}"
            )
        fired = [t is not None for t in self._captured]
        is_logits = [t is not None and t.shape == logits.shape and torch.equal(t, logits) for t in self._captured]
        return fired, is_logits

    def _run(self, x: torch.Tensor) -> torch.Tensor:
        self._captured = [None] * len(self._captured)
        out = self.net(x)
        if isinstance(out, tuple | list):
            out = out[0]
        return out

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        return self._run(x)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """[T_1, ..., T_{L-1}, softmax]: every captured output flattened to (n, units), then the probabilities."""
        logits = self._run(x)
        outs = [self._captured[i].reshape(len(x), -1) for i in self._index]
        return [*outs, torch.softmax(logits, dim=-1)]

    def output_parameters(self, layer: int):
        """Every parameter of the network: the graph of a user's module is not known, so a
        non-finite weight anywhere marks every representation (extraction's divergence check)."""
        return self.net.parameters()


def build_factory_model(model_config: dict, dataset: xr.Dataset) -> CapturedModel:
    """The registry builder for ``model.factory``: call the user's factory and wrap it."""
    from . import n_classes, n_features  # late: the package imports this module

    fn = resolve_factory(model_config["factory"])
    shape = tuple(int(dataset.sizes[d]) for d in dataset["x"].dims[1:])
    classes = n_classes(dataset)
    injected = {"n_inputs": n_features(dataset), "n_classes": classes, "input_shape": shape}
    net = _call_factory(fn, dict(model_config.get("kwargs") or {}), injected, "model.factory")
    probe = torch.as_tensor(dataset["x"].values[:2], dtype=torch.float32)
    return CapturedModel(net, model_config.get("capture"), probe, classes)
