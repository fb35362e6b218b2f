"""The MI table of one run: every estimator quantity at every captured epoch and layer."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import torch
import xarray as xr

from ..estimators import information_plane, resolve_device

MI_COLUMNS = ["epoch", "layer", "quantity", "mi_bits", "ci_low_bits", "ci_high_bits", "n_samples", "seconds"]
MI_COLUMNS.append("reliable")
# reliable: the verdict of the reliability protocol (preset key ``protocol: true``; infoplane.estimators.protocol),
# True or False, empty where no check ran.
# Methods of stochastic representations (infoplane.estimators.stochastic): X is uniform over a split of the
# dataset's rows (the plane gets ``is_train``); ``stochastic`` reads each Gaussian layer's [loc | scale]
# (``loc_layer{l}``, ``scale_layer{l}``) and skips layers without them.
ROW_METHODS = ("stochastic", "noise_injected")
GAUSSIAN_METHODS = ("stochastic",)


class NonFiniteActivations(ValueError):
    """A diverged run: NaN or inf in a layer's activations."""


def layer_numbers(activations: xr.Dataset) -> list[int]:
    """The layer numbers 1..L present in an activations store (variables ``layer{l}``)."""
    return sorted(int(name.removeprefix("layer")) for name in activations.data_vars if name.startswith("layer"))


def _kept(values: torch.Tensor, ok: np.ndarray) -> np.ndarray:
    return values.cpu().numpy()[ok]


def _reliable(values: dict, ok: np.ndarray) -> pd.arrays.BooleanArray:
    """The protocol's verdict per kept epoch: True, False, or missing where no check ran."""
    flags = _kept(values["reliable"], ok) if values.get("reliable") is not None else np.full(int(ok.sum()), np.nan)
    return pd.array([None if v != v else bool(v) for v in flags], dtype="boolean")


def run_mi_table(
    activations: xr.Dataset,
    dataset: xr.Dataset,
    method: str,
    params: dict,
    device: str = "auto",
    run: str = "",
    on_nonfinite: str = "error",
    log=None,
    inputs=None,
) -> pd.DataFrame:
    """I(X;T) and I(T;Y) of every layer at every epoch of one run, as a tidy table in bits.

    activations: the activations.zarr contract; dataset: the dataset contract (X uniform over its
    samples). ``on_nonfinite``: ``"error"`` raises NonFiniteActivations naming the run, epoch and
    layer; ``"skip"`` drops those epochs of that layer and reports them through ``log``. A non-finite
    estimate from finite activations (a numerical failure) is treated the same way, so no table
    ever holds a NaN estimate. inputs: (n, d) to use for X instead of the dataset's ``x`` (its codes
    under a compressor fitted once, ``x_compressor`` of a preset), or None.
    """
    dev = resolve_device(device)
    inputs = dataset["x"].values if inputs is None else inputs
    inputs = torch.as_tensor(inputs, dtype=torch.float64, device=dev)
    inputs = inputs.reshape(len(inputs), -1)  # images and the like: X as a vector of its features
    labels = torch.as_tensor(dataset["y"].values, dtype=torch.int64, device=dev)
    epochs = activations["epoch"].values
    frames = []
    extra, n_samples = {}, len(labels)
    if method in ROW_METHODS:
        from ..estimators.stochastic import estimation_rows

        extra["is_train"] = torch.as_tensor(dataset["is_train"].values)
        n_samples = len(
            estimation_rows(len(labels), params.get("split", "train"), extra["is_train"], params.get("max_samples"))
        )
    for layer in layer_numbers(activations):
        if method in GAUSSIAN_METHODS and f"loc_layer{layer}" not in activations:
            continue  # not a Gaussian layer: no p(z | x) to estimate from
        acts = torch.as_tensor(np.asarray(activations[f"layer{layer}"].values), device=dev)
        if method in GAUSSIAN_METHODS:
            parts = [np.asarray(activations[f"{p}_layer{layer}"].values) for p in ("loc", "scale")]
            acts = torch.as_tensor(np.concatenate(parts, axis=2), device=dev)
        finite = torch.isfinite(acts).all(dim=2).all(dim=1).cpu().numpy()
        if not finite.all():
            bad = epochs[~finite]
            where = f"run {run!r}, layer {layer}, epochs {bad.tolist()[:10]}{' ...' if len(bad) > 10 else ''}"
            if on_nonfinite == "error":
                raise NonFiniteActivations(f"non-finite activations (NaN or inf) in {where}: the run diverged")
            if log is not None:
                log.warning("skipping non-finite activations in %s", where)
        keep = np.flatnonzero(finite)
        if len(keep) == 0:
            continue
        start = time.perf_counter()
        result = information_plane(method, acts[torch.as_tensor(keep, device=dev)], inputs, labels, **params, **extra)
        seconds = (time.perf_counter() - start) / len(keep)
        # Finite activations can still give a non-finite estimate (a numerical failure): never a NaN in the table.
        ok = np.logical_and.reduce([np.isfinite(v["mi_bits"].cpu().numpy()) for v in result.values()])
        if not ok.all():
            bad = epochs[keep[~ok]]
            where = f"run {run!r}, layer {layer}, epochs {bad.tolist()[:10]}{' ...' if len(bad) > 10 else ''}"
            if on_nonfinite == "error":
                raise ValueError(f"{method} gave a non-finite estimate (NaN or inf) in {where}")
            if log is not None:
                log.warning("skipping non-finite %s estimates in %s", method, where)
            if not ok.any():
                continue
        for quantity, values in result.items():
            reliable = _reliable(values, ok)
            frame = pd.DataFrame({
                "epoch": epochs[keep][ok],
                "layer": layer,
                "quantity": quantity,
                "mi_bits": _kept(values["mi_bits"], ok),
                "ci_low_bits": np.nan if values["ci_low_bits"] is None else _kept(values["ci_low_bits"], ok),
                "ci_high_bits": np.nan if values["ci_high_bits"] is None else _kept(values["ci_high_bits"], ok),
                "n_samples": n_samples,
                "seconds": seconds / 2,
                "reliable": reliable,
            })
            frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=MI_COLUMNS)
    table = pd.concat(frames, ignore_index=True)
    return table.sort_values(["epoch", "layer", "quantity"], kind="stable").reset_index(drop=True)[MI_COLUMNS]
