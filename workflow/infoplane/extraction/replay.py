"""Replay recorded weights on a dataset: every layer's activations at every captured epoch."""

from __future__ import annotations

import numpy as np
import torch
import xarray as xr
from torch import nn

from ..io import zarr_store
from ..io.parameter_names import store_variable


def load_epoch(model: nn.Module, weights: xr.Dataset, i: int) -> None:
    """Load the i-th captured epoch of ``weights`` (the weights.zarr contract) into ``model``.

    Parameters and buffers (batch norm's running statistics, which eval mode uses) both come from the store.
    """
    state = {}
    params = dict(model.named_parameters())
    for name in model.state_dict():  # parameters and persistent buffers
        var, kind = store_variable(name), "parameter" if name in params else "buffer"
        if var not in weights:
            raise ValueError(f"weights store has no variable {var!r} for {kind} {name!r}")
        state[name] = torch.from_numpy(np.asarray(weights[var].isel(epoch=i).values))
    model.load_state_dict(state)


def _output_parameters(model: nn.Module, layer: int):
    """The parameters whose divergence marks representation ``layer``: the model's own answer when it
    has one (``output_parameters``, e.g. a wrapped user module), else those of ``model.layers[layer]``."""
    own = getattr(model, "output_parameters", None)
    return own(layer) if own is not None else model.layers[layer].parameters()


def activations(
    model: nn.Module, weights: xr.Dataset, x: torch.Tensor, progress=None, noise_seed: int = 0
) -> xr.Dataset:
    """Activations of every layer (hidden layers, then the softmax output) at every captured epoch.

    x: (n, d) inputs. Returns a Dataset with variables ``layer1``..``layerL``, each
    (epoch, sample, unit_layer{l}) float32, and coordinate ``epoch``. A stochastic model (noise
    injection, sampled encoders) draws its noise from torch's global generator, seeded with
    ``noise_seed`` + the capture index before every epoch, so a replay is reproducible.

    A model with Gaussian layers (``forward_gaussians``, :mod:`infoplane.models.stochastic`) also
    gets ``loc_layer{l}`` and ``scale_layer{l}`` for each Gaussian layer l, with the dims of
    ``layer{l}``: the mean and std of p(z | x) from which ``layer{l}`` was drawn. Other models'
    stores are unchanged.
    """
    epochs = weights["epoch"].values
    per_layer: list[list[np.ndarray]] = []
    gaussian_parts: dict[str, list[np.ndarray]] = {}
    model.eval()
    with torch.no_grad():
        for i in range(len(epochs)):
            load_epoch(model, weights, i)
            torch.manual_seed(noise_seed + i)
            diverged = False
            outs, gaussians = _outputs(model, x)
            if not per_layer:  # one list per representation (the registered models: one per weighted layer)
                per_layer = [[] for _ in outs]
            for layer, out in enumerate(outs):
                # A non-finite weight can still give finite activity (tanh(inf) = 1): mark the layer
                # and every layer after it NaN, so the MI job sees the divergence and names it.
                diverged = diverged or not all(torch.isfinite(p).all() for p in _output_parameters(model, layer))
                out = torch.full_like(out, float("nan")) if diverged else out
                per_layer[layer].append(out.cpu().numpy().astype(np.float32))
                for part, value in zip(("loc", "scale"), gaussians.get(layer + 1, ()), strict=False):
                    value = torch.full_like(value, float("nan")) if diverged else value
                    gaussian_parts.setdefault(f"{part}_layer{layer + 1}", []).append(
                        value.cpu().numpy().astype(np.float32)
                    )
            if progress is not None:
                progress.update(1)
    data = {
        f"layer{l + 1}": (("epoch", "sample", f"unit_layer{l + 1}"), np.stack(acts)) for l, acts in enumerate(per_layer)
    }
    for name, values in gaussian_parts.items():
        data[name] = (("epoch", "sample", f"unit_{name.split('_', 1)[1]}"), np.stack(values))
    return xr.Dataset(data, coords={"epoch": epochs.astype(np.int64)})


def _outputs(model: nn.Module, x: torch.Tensor) -> tuple[list[torch.Tensor], dict[int, tuple]]:
    """The model's forward outputs, and (loc, scale) per Gaussian layer number for stochastic encoders."""
    if not hasattr(model, "forward_gaussians"):
        return model(x), {}
    outs, gaussians = model.forward_gaussians(x)
    outs[-1] = torch.softmax(outs[-1], dim=-1)
    return outs, gaussians


# Bytes per chunk of an activations store: a chunk holds whole epochs of one layer, as many as fit.
CHUNK_BYTES = 1 << 20


def epochs_per_chunk(var: xr.DataArray) -> int:
    """Whole epochs of one layer per chunk: as many as fit in ``CHUNK_BYTES``, at least one.

    One epoch per chunk made 1644 files for a Tishby run of 274 captures x 6 layers, and Zarr's
    cost per chunk made writing and reading the store take 2.4 s and 1.7 s; chunks of about 1 MiB
    take 0.6 s and 0.3 s.
    """
    per_epoch = var.dtype.itemsize * int(np.prod(var.shape[1:]))
    return int(max(1, min(var.shape[0], CHUNK_BYTES // max(per_epoch, 1))))


def write_activations(ds: xr.Dataset, path) -> None:
    """Write activations chunked by whole epochs (a chunk holds :func:`epochs_per_chunk` epochs of one layer)."""
    encoding = {name: {"chunks": (epochs_per_chunk(ds[name]), *ds[name].shape[1:])} for name in ds.data_vars}
    zarr_store.write_new(ds, path, encoding)
