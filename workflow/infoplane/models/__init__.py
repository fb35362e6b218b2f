"""Architectures: a registry of model builders. A new architecture is one module and one line."""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from .mlp import ACTIVATIONS, MLP

MODELS: dict[str, Callable[..., nn.Module]] = {
    "mlp": MLP,
}


def build_model(name: str, **params) -> nn.Module:
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; known: {sorted(MODELS)}")
    return MODELS[name](**params)


def model_for_dataset(model_config: dict, dataset) -> nn.Module:
    """The model of a run's ``model`` config section, sized for a dataset in the dataset contract."""
    return build_model(
        model_config["name"],
        n_inputs=int(dataset.sizes["feature"]),
        hidden=[int(h) for h in model_config["hidden"]],
        n_classes=int(dataset["y"].values.max()) + 1,
        activation=model_config["activation"],
    )


__all__ = ["ACTIVATIONS", "MLP", "MODELS", "build_model", "model_for_dataset"]
