"""Datasets: a registry of builders that return an xarray Dataset in the stage contract.

The contract (DESIGN.md): ``x`` (sample, feature) float32, ``y`` (sample) int64 labels,
``is_train`` (sample) bool; attrs ``generator``, ``parameters`` (JSON) and ``seed``.
A new dataset is one builder function and one line in ``DATASETS``.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable

import numpy as np
import xarray as xr

from . import blobs, cifar10, digits, files, mnist, mnist1d, tishby12
from .splits import stratified_subsample, train_mask


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


def build_tishby12(
    seed: int = 0,
    path: str | None = None,
    split: str | None = None,
    train_fraction: float | None = None,
    split_path: str | None = None,
) -> xr.Dataset:
    """The 12-bit task: generated from ``seed``, or read from the .mat file at ``path``.

    ``split`` defaults to ``original`` (the first ``train_fraction``, default 0.8, of the patterns in
    counting order, as IDNNs). ``split_path`` names a Saxe et al. (2018) split file (.npz) that fixes
    the rows and the split.
    """
    split = "original" if split is None else split
    train_fraction = 0.8 if train_fraction is None else train_fraction
    params = {"seed": seed, "path": path, "split": split, "train_fraction": train_fraction, "split_path": split_path}
    if split_path is not None:
        x, y, is_train = tishby12.load_saxe_split(split_path)
        return as_dataset(x, y, is_train, "tishby12", params)
    x, y = tishby12.load_mat(path) if path else tishby12.generate(seed)
    return as_dataset(x, y, train_mask(len(y), train_fraction, split, seed), "tishby12", params)


def build_digits(
    seed: int = 0, split: str | None = None, train_fraction: float | None = None, max_samples: int | None = None
) -> xr.Dataset:
    """scikit-learn's 1797 handwritten 8x8 digits: x = pixels / 16 (64 features in [0, 1]), y in 0..9.

    ``split`` defaults to ``random``: a seeded split stratified by label, ``train_fraction`` (default
    0.8) of each class training; ``original`` trains on the first rows in file order. ``max_samples``
    first keeps a seeded stratified subsample of that many rows (in file order).
    """
    split = "random" if split is None else split
    train_fraction = 0.8 if train_fraction is None else train_fraction
    params = {"seed": seed, "split": split, "train_fraction": train_fraction, "max_samples": max_samples}
    x, y = digits.load()
    keep = stratified_subsample(y, max_samples, seed)
    x, y = x[keep], y[keep]
    return as_dataset(x, y, train_mask(len(y), train_fraction, split, seed, labels=y), "digits", params)


def build_mnist(path: str | None = None, seed: int = 0, max_samples: int | None = None) -> xr.Dataset:
    """MNIST from the IDX files in the folder ``path``: x = pixels / 255 flattened (784 features in [0, 1]).

    The split is the files': the 60000 training rows first (``is_train``), then the 10000 test rows.
    ``max_samples`` keeps a seeded subsample of that many rows, training and test rows subsampled
    separately and each stratified by label, so the train/test proportion is kept.
    """
    params = {"seed": seed, "path": None if path is None else str(path), "max_samples": max_samples}
    images, y, is_train = mnist.load(path)
    keep = mnist.subsample_split(y, is_train, max_samples, seed)
    x = images[keep].reshape(len(keep), -1).astype(np.float32) / np.float32(255)
    return as_dataset(x, y[keep], is_train[keep], "mnist", params)


def build_cifar10(path: str | None = None, seed: int = 0, max_samples: int | None = None) -> xr.Dataset:
    """CIFAR-10 from the python archive or its extracted folder at ``path`` (see :mod:`infoplane.data.cifar10`).

    x = pixels / 255, each image flattened as channel, row, column (3072 features in [0, 1]:
    ``x.reshape(n, 3, 32, 32)`` is the torch layout); y in 0..9. The split is the files': the 50000
    rows of the five training batches first (``is_train``), then the 10000 of the test batch.
    ``max_samples`` subsamples as for MNIST: training and test rows separately, each stratified by label.
    """
    params = {"seed": seed, "path": None if path is None else str(path), "max_samples": max_samples}
    images, y, is_train = cifar10.load(path)
    keep = mnist.subsample_split(y, is_train, max_samples, seed)
    x = images[keep].astype(np.float32) / np.float32(255)
    return as_dataset(x, y[keep], is_train[keep], "cifar10", params)


def build_mnist1d(seed: int = 0, n_samples: int | None = None, train_fraction: float | None = None) -> xr.Dataset:
    """MNIST-1D (Greydanus 2020), generated from ``seed`` by the optional ``mnist1d`` package (40 features).

    ``n_samples`` (default 5000, a multiple of 10) signals, a tenth per digit; the first
    ``train_fraction`` (default 0.8) of them, in the generator's shuffled order, train. The package's
    own default seed is 42. x is standardised over all signals (mean 0, std 1), as the package does.
    """
    n_samples = 5000 if n_samples is None else int(n_samples)
    train_fraction = 0.8 if train_fraction is None else float(train_fraction)
    params = {"seed": seed, "n_samples": n_samples, "train_fraction": train_fraction}
    x, y, is_train = mnist1d.generate(seed, n_samples, train_fraction)
    return as_dataset(x, y, is_train, "mnist1d", params)


def build_file(
    path: str | None = None,
    seed: int = 0,
    label_column: str | None = None,
    split: str | None = None,
    train_fraction: float | None = None,
) -> xr.Dataset:
    """A user's data from a local ``.npz``, ``.zarr`` or ``.csv`` file (see :mod:`infoplane.data.files`).

    Without an ``is_train`` in the file, ``split`` (default ``random``: seeded, stratified by label)
    takes ``train_fraction`` (default 0.8) of the rows for training. ``x`` keeps its shape: dims
    (sample, feature) for a table, (sample, feature, feature_1, ...) for images and the like.
    """
    label_column = "label" if label_column is None else label_column
    split = "random" if split is None else split
    train_fraction = 0.8 if train_fraction is None else train_fraction
    params = {
        "seed": seed,
        "path": path,
        "label_column": label_column,
        "split": split,
        "train_fraction": train_fraction,
    }
    x, y, is_train = files.load(path, label_column)
    if is_train is None:
        is_train = train_mask(len(y), train_fraction, split, seed, labels=y if split == "random" else None)
    if x.ndim == 2:
        return as_dataset(x, y, is_train, "file", params)
    dims = ("sample", "feature", *[f"feature_{k}" for k in range(1, x.ndim - 1)])
    ds = as_dataset(x.reshape(len(x), -1), y, is_train, "file", params)
    return ds.drop_vars("x").assign(x=(dims, x.astype(np.float32)))[["x", "y", "is_train"]]


def build_blobs(
    seed: int = 0,
    n_train: int | None = None,
    n_test: int | None = None,
    centers: int | None = None,
    cluster_std: float | None = None,
    center_box: float | None = None,
) -> xr.Dataset:
    """2-d Gaussian blobs (Kawaguchi et al. 2023): defaults 5 centres in [-2.5, 2.5]^2, std 0.7, 50 train, 250 test."""
    params = {
        "seed": seed,
        "n_train": 50 if n_train is None else int(n_train),
        "n_test": 250 if n_test is None else int(n_test),
        "centers": 5 if centers is None else int(centers),
        "cluster_std": 0.7 if cluster_std is None else float(cluster_std),
        "center_box": 2.5 if center_box is None else float(center_box),
    }
    x, y, is_train = blobs.generate(**params)
    return as_dataset(x, y, is_train, "blobs", params)


DATASETS: dict[str, Callable[..., xr.Dataset]] = {
    "tishby12": build_tishby12,
    "digits": build_digits,
    "mnist": build_mnist,
    "cifar10": build_cifar10,  # the CIFAR-10 python archive or folder (data/cifar10.py)
    "mnist1d": build_mnist1d,  # generated by the optional mnist1d package (data/mnist1d.py)
    "file": build_file,  # a user's .npz, .zarr or .csv (data/files.py)
    "blobs": build_blobs,
}


def dataset_parameters(name: str) -> list[str]:
    """The parameters the builder of dataset ``name`` takes."""
    return list(inspect.signature(DATASETS[name]).parameters)


def build_dataset(name: str, **params) -> xr.Dataset:
    """Build dataset ``name`` with its parameters.

    A parameter the builder does not take is dropped when it is None (a config's schema fills every
    dataset key, null where unset) and is an error otherwise.
    """
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; known: {sorted(DATASETS)}")
    accepted = dataset_parameters(name)
    extra = sorted(k for k, v in params.items() if k not in accepted and v is not None)
    if extra:
        raise ValueError(f"dataset {name} takes no parameter {', '.join(map(repr, extra))}; it takes {accepted}")
    return DATASETS[name](**{k: v for k, v in params.items() if k in accepted})
