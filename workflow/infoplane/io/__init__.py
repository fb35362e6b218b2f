"""Input and output helpers: Zarr stores through xarray."""

from .zarr_store import append, load_store, open_store, write_new

__all__ = ["append", "load_store", "open_store", "write_new"]
