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


__all__ = ["ACTIVATIONS", "MLP", "MODELS", "build_model"]
