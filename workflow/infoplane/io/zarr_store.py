"""Reading and writing the project's Zarr stores through xarray (Zarr format 3).

Consolidated metadata is off on write and read (it warns under Zarr v3). Every reader raises a
ValueError naming the path when a store is missing, truncated or corrupted.

Every chunk is written, even one that holds only the fill value (``write_empty_chunks``): Zarr
reads a missing chunk as fill values (NaN) without complaint, so only a store known to hold
every chunk lets ``load_store`` tell a deleted chunk from data.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import xarray as xr
import zarr

# Snakemake marks a finished directory output with a .snakemake_timestamp file, which Zarr notes.
warnings.filterwarnings("ignore", message=r"Object at \.snakemake_timestamp is not recognized")


def write_new(ds: xr.Dataset, path: str | Path, encoding: dict | None = None) -> None:
    """Write ``ds`` as a new store at ``path`` (replacing any store there)."""
    ds.to_zarr(
        str(path),
        mode="w",
        consolidated=False,
        zarr_format=3,
        encoding=encoding or {},
        write_empty_chunks=True,
    )


def append(ds: xr.Dataset, path: str | Path, dim: str = "epoch") -> None:
    """Append ``ds`` along ``dim`` to the store at ``path``, creating it if absent.

    A new store is chunked along ``dim`` by the length of this first block, so later appends of
    the same length (training flushes a fixed number of captures at a time) write whole new chunks:
    one file per array and append rather than one per epoch, which made writing a group's weights
    most of its training time, and a killed append never rewrites a chunk of earlier epochs.
    """
    if not Path(path).exists():
        length = ds.sizes[dim]
        encoding = {name: {"chunks": _chunks_along(ds[name], dim, length)} for name in ds.data_vars}
        encoding[dim] = {"chunks": (512,)}
        write_new(ds, path, encoding)
    else:
        ds.to_zarr(str(path), mode="a", append_dim=dim, consolidated=False, zarr_format=3, write_empty_chunks=True)


def _chunks_along(var: xr.DataArray, dim: str, length: int = 1) -> tuple[int, ...]:
    return tuple(length if d == dim else size for d, size in zip(var.dims, var.shape, strict=True))


def open_store(path: str | Path, what: str = "store") -> xr.Dataset:
    """Open a Zarr store lazily; a missing or unreadable one raises ValueError naming the path."""
    path = Path(path)
    if not path.exists():
        raise ValueError(f"{what} {str(path)!r} does not exist")
    try:
        ds = xr.open_zarr(str(path), consolidated=False, zarr_format=3)
    except Exception as err:
        raise ValueError(f"{what} {str(path)!r} is not a readable Zarr store: {type(err).__name__}: {err}") from err
    return ds


def load_store(path: str | Path, what: str = "store") -> xr.Dataset:
    """Open and load a store; a missing, cut or corrupted chunk raises ValueError naming the path."""
    ds = open_store(path, what)
    _check_all_chunks_present(path, what)
    try:
        return ds.load()
    except Exception as err:
        raise ValueError(
            f"{what} {str(path)!r} is damaged (a chunk could not be read): {type(err).__name__}: {err}"
        ) from err


def _check_all_chunks_present(path: str | Path, what: str) -> None:
    """Raise ValueError naming the store and array when a chunk file is missing (read as NaN otherwise)."""
    try:
        arrays = list(zarr.open_group(str(path), mode="r", zarr_format=3).arrays())
        counts = [(name, a.nchunks, a.nchunks_initialized) for name, a in arrays]
    except Exception as err:
        raise ValueError(f"{what} {str(path)!r} is not a readable Zarr store: {type(err).__name__}: {err}") from err
    for name, expected, present in counts:
        if present < expected:
            missing = expected - present
            raise ValueError(
                f"{what} {str(path)!r} is damaged: array {name!r} lacks {missing} of its {expected} chunks"
            )


__all__ = ["append", "load_store", "open_store", "write_new"]
