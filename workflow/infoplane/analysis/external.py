"""Activations from anywhere: the MI table of representations computed outside the workflow.

A model trained in the user's own code, or on a cluster, gives its layers' activations as

- an activations store (``.zarr``, the workflow's contract: ``layer{l}`` (epoch, sample, unit_layer{l})), or
- a ``.npz`` archive: one array per layer, (epoch, sample, unit...) or (sample, unit...) for one
  epoch, and optionally ``epoch`` (the epoch numbers; default 0, 1, ...). Arrays named
  ``layer1``, ``layer2``, ... keep their numbers; otherwise layers are numbered 1..L in the
  archive's order (the names are returned so the caller can say which is which).

:func:`plane_table` packs them and the inputs and labels into the stage contracts and calls
:func:`infoplane.analysis.run_mi_table`, the function of the workflow's estimate rule, so a table
made here equals the workflow's for the same activations.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..data import as_dataset

_LAYER = re.compile(r"^layer(\d+)$")


class ActivationsFileError(ValueError):
    """Activations, inputs or labels that cannot be read; the message names the file and array."""


def read_array(path: str | Path, what: str) -> np.ndarray:
    """A ``.npy`` array; ``what`` names it in errors (``inputs``, ``labels``)."""
    p = Path(path)
    if not p.is_file():
        raise ActivationsFileError(f"{what} file {str(path)!r} does not exist")
    try:
        return np.load(p, allow_pickle=False)
    except (ValueError, OSError) as err:
        raise ActivationsFileError(f"{what} file {str(path)!r} is not a readable .npy array: {err}") from err


def read_activations(path: str | Path) -> tuple[xr.Dataset, dict[int, str]]:
    """(activations in the store contract, {layer number: name in the file}) from a .zarr store or .npz archive."""
    p = Path(path)
    if p.suffix == ".zarr":
        if not p.is_dir():
            raise ActivationsFileError(f"activations store {str(path)!r} does not exist")
        from ..io import load_store

        ds = load_store(p, "activations store")
        names = {int(m.group(1)): v for v in ds.data_vars if (m := _LAYER.match(str(v)))}
        if not names:
            raise ActivationsFileError(f"activations store {str(path)!r} has no variable layer1, layer2, ...")
        return ds[[names[k] for k in sorted(names)]], names
    if p.suffix != ".npz":
        raise ActivationsFileError(f"activations file {str(path)!r}: expected a .zarr store or a .npz archive")
    if not p.is_file():
        raise ActivationsFileError(f"activations file {str(path)!r} does not exist")
    try:
        with np.load(p, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except (ValueError, OSError) as err:
        raise ActivationsFileError(f"activations file {str(path)!r} is not a readable .npz archive: {err}") from err
    epochs = arrays.pop("epoch", None)
    if not arrays:
        raise ActivationsFileError(f"activations file {str(path)!r} holds no layer array")
    if all(_LAYER.match(k) for k in arrays):
        names = {int(_LAYER.match(k).group(1)): k for k in arrays}
    else:
        names = {i + 1: k for i, k in enumerate(arrays)}
    layers = {}
    for number in sorted(names):
        a = np.asarray(arrays[names[number]])
        if epochs is None and a.ndim == 2:
            a = a[None]  # (sample, unit): one epoch
        elif epochs is not None and a.ndim >= 2 and a.shape[0] != len(epochs) and len(epochs) == 1:
            a = a[None]
        if a.ndim < 3:
            raise ActivationsFileError(
                f"activations file {str(path)!r}: array {names[number]!r} must be (epoch, sample, unit...) "
                f"or (sample, unit), got shape {a.shape}"
            )
        layers[number] = a.reshape(a.shape[0], a.shape[1], -1).astype(np.float32)
    n_epochs = {a.shape[0] for a in layers.values()}
    n_samples = {a.shape[1] for a in layers.values()}
    if len(n_epochs) != 1 or len(n_samples) != 1:
        shapes = {names[k]: a.shape for k, a in layers.items()}
        raise ActivationsFileError(f"activations file {str(path)!r}: layers disagree on epochs or samples: {shapes}")
    n_e = n_epochs.pop()
    epochs = np.arange(n_e) if epochs is None else np.asarray(epochs).reshape(-1)
    if len(epochs) != n_e:
        raise ActivationsFileError(f"activations file {str(path)!r}: 'epoch' has {len(epochs)} values for {n_e} epochs")
    data = {f"layer{k}": (("epoch", "sample", f"unit_layer{k}"), a) for k, a in layers.items()}
    return xr.Dataset(data, coords={"epoch": epochs.astype(np.int64)}), names


def plane_table(
    activations: xr.Dataset,
    inputs: np.ndarray,
    labels: np.ndarray,
    method: str,
    params: dict,
    device: str = "auto",
    on_nonfinite: str = "error",
) -> pd.DataFrame:
    """The tidy MI table (``MI_COLUMNS``) of activations (store contract) over inputs (n, ...) and labels (n,).

    X is uniform over the n input rows, Y the labels, as in the workflow.
    """
    from .run_mi import run_mi_table

    n = activations.sizes["sample"]
    inputs, labels = np.asarray(inputs), np.asarray(labels)
    if inputs.ndim == 1:
        inputs = inputs[:, None]
    if len(inputs) != n:
        raise ActivationsFileError(f"inputs have {len(inputs)} rows but the activations {n} samples")
    if labels.ndim != 1 or len(labels) != n:
        raise ActivationsFileError(f"labels must have shape ({n},) to match the activations, got {labels.shape}")
    if not (np.issubdtype(labels.dtype, np.integer) or labels.dtype == bool) and not np.all(np.round(labels) == labels):
        raise ActivationsFileError("labels must be integers (class labels)")
    dataset = as_dataset(inputs.reshape(n, -1), labels, np.ones(n, dtype=bool), "file", {"seed": 0})
    return run_mi_table(activations, dataset, method, params, device=device, on_nonfinite=on_nonfinite)
