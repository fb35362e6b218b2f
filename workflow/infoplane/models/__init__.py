"""Architectures: a registry of model builders. A new architecture is one module and one line.

Every model follows one protocol, which training, extraction and estimation rely on:

- ``forward(x)`` returns the list of captured representations [T_1, ..., T_L], the last being the
  softmax output; ``logits(x)`` returns the pre-softmax output for the loss;
- ``layers`` is an ``nn.ModuleList`` of the weighted layers (each with a ``.weight``), whose
  gradients are recorded and whose weights the ``l2`` penalty takes.

A builder takes the experiment's ``model`` config section and the dataset (the dataset contract)
and returns the model sized for that dataset.
"""

from __future__ import annotations

from collections.abc import Callable

import xarray as xr
from torch import nn

from .conv import NoisyConvNet
from .factory import CapturedModel, FactoryError, build_factory_model
from .mlp import ACTIVATIONS, MLP
from .normalization import GhostBatchNorm1d
from .stochastic import StochasticMLP, square_side, stochastic_conv


def _mlp(model_config: dict, dataset: xr.Dataset) -> nn.Module:
    return MLP(
        n_inputs=n_features(dataset),
        hidden=[int(h) for h in model_config["hidden"]],
        n_classes=n_classes(dataset),
        activation=model_config["activation"],
        batch_norm=bool(model_config.get("batch_norm", False)),
        ghost_batch=model_config.get("ghost_batch"),
    )


def _stochastic_mlp(model_config: dict, dataset: xr.Dataset) -> nn.Module:
    return StochasticMLP(
        n_inputs=n_features(dataset),
        hidden=[int(h) for h in model_config["hidden"]],
        n_classes=n_classes(dataset),
        activation=model_config["activation"],
    )


def _stochastic_conv(model_config: dict, dataset: xr.Dataset) -> nn.Module:
    return stochastic_conv(
        n_inputs=n_features(dataset),
        hidden=[int(h) for h in model_config["hidden"]],
        n_classes=n_classes(dataset),
        channels=[int(c) for c in model_config.get("channels") or [8, 16]],
        activation=model_config["activation"],
    )


def _noisy_conv(model_config: dict, dataset: xr.Dataset) -> nn.Module:
    return NoisyConvNet(
        side=square_side(n_features(dataset)),
        channels=[int(c) for c in model_config.get("channels") or [8, 16]],
        hidden=[int(h) for h in model_config["hidden"]],
        n_classes=n_classes(dataset),
        noise_std=float(model_config.get("noise_std", 1e-3)),
        noise_relative=bool(model_config.get("noise_relative", True)),
        dropout=float(model_config.get("dropout", 0.0)),
    )


def n_features(dataset: xr.Dataset) -> int:
    """Input features per sample (the product of every non-sample dim of ``x``)."""
    size = 1
    for dim in dataset["x"].dims[1:]:
        size *= int(dataset.sizes[dim])
    return size


def n_classes(dataset: xr.Dataset) -> int:
    return int(dataset["y"].values.max()) + 1


# name -> builder(model_config, dataset)
MODELS: dict[str, Callable[[dict, xr.Dataset], nn.Module]] = {
    "mlp": _mlp,
    "factory": build_factory_model,  # model.factory: a user's torch module (models/factory.py)
    "stochastic_mlp": _stochastic_mlp,
    "stochastic_conv": _stochastic_conv,
    "noisy_conv": _noisy_conv,  # Butakov et al. (2024): conv blocks with noise injection (models/conv.py)
}


def model_for_dataset(model_config: dict, dataset: xr.Dataset) -> nn.Module:
    """The model of a run's ``model`` config section, sized for a dataset in the dataset contract."""
    name = "factory" if model_config.get("factory") else model_config["name"]
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; known: {sorted(MODELS)}")
    factor = int(model_config.get("width_factor") or 1)
    if factor != 1:  # every hidden width times the factor: one sweep key spans a family of architectures
        model_config = {**model_config, "hidden": [int(h) * factor for h in model_config["hidden"]]}
    return MODELS[name](model_config, dataset)


__all__ = [
    "ACTIVATIONS",
    "MLP",
    "CapturedModel",
    "FactoryError",
    "GhostBatchNorm1d",
    "MODELS",
    "NoisyConvNet",
    "StochasticMLP",
    "stochastic_conv",
    "model_for_dataset",
    "n_classes",
    "n_features",
]
