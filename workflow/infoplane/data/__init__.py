"""Datasets: a registry of builders that return an xarray Dataset in the stage contract.

The contract (DESIGN.md): ``x`` (sample, feature) float32, ``y`` (sample) int64 labels,
``is_train`` (sample) bool; attrs ``generator``, ``parameters`` (JSON) and ``seed``.
A new dataset is one builder function and one line in ``DATASETS``.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import xarray as xr

from . import tishby12
from .splits import train_mask


def as_dataset(x: np.ndarray, y: np.ndarray, is_train: np.ndarray, generator: str, params: dict) -> xr.Dataset:
    """Package arrays in the dataset contract."""
    return xr.Dataset(
        {
            "x": (("sample", "feature"), np.asarray(x, dtype=np.float32)),
            "y": (("sample",), np.asarray(y, dtype=np.int64)),
            "is_train": (("sample",), np.asarray(is_train, dtype=bool)),
        },
        attrs={"generator": generator, "parameters": json.dumps(params, sort_keys=True), "seed": int(params["seed"])},
    )


def build_tishby12(seed: int = 0, path: str | None = None, split: str = "original", train_fraction: float = 0.8,
                   split_path: str | None = None) -> xr.Dataset:
    """The 12-bit task: generated from ``seed``, or read from the .mat file at ``path``.

    ``split_path`` names a Saxe et al. (2018) split file (.npz) that fixes the rows and the split.
    """
    params = {"seed": seed, "path": path, "split": split, "train_fraction": train_fraction, "split_path": split_path}
    if split_path is not None:
        x, y, is_train = tishby12.load_saxe_split(split_path)
        return as_dataset(x, y, is_train, "tishby12", params)
    x, y = tishby12.load_mat(path) if path else tishby12.generate(seed)
    return as_dataset(x, y, train_mask(len(y), train_fraction, split, seed), "tishby12", params)


DATASETS: dict[str, Callable[..., xr.Dataset]] = {
    "tishby12": build_tishby12,
}


def build_dataset(name: str, **params) -> xr.Dataset:
    """Build dataset ``name`` with its parameters."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; known: {sorted(DATASETS)}")
    return DATASETS[name](**params)
