"""A user's data from a local file: ``datasets: {mine: {generator: file, path: data.npz}}``.

Formats, by suffix:

- ``.npz``: arrays ``x`` (n, feature...), ``y`` (n,) integer labels, optional ``is_train`` (n,) bool;
- ``.zarr``: a store in the dataset contract (variables ``x``, ``y``, optional ``is_train``);
- ``.csv``: one row per sample, a header; the ``label_column`` (default ``label``) holds ``y``, an
  optional ``is_train`` column the split, every other column is a numeric feature.

Without ``is_train`` the split is seeded: ``train_fraction`` (default 0.8) of each class trains.
Every problem (missing file, unknown suffix, missing array or column, wrong shape, NaN or inf,
labels that are not non-negative integers) is a :class:`DataFileError` naming the file and key.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

SUFFIXES = (".npz", ".zarr", ".csv")


class DataFileError(ValueError):
    """A data file that cannot be read into the dataset contract; the message names the file and key."""


def check_path(path: str | None) -> str | None:
    """Why ``path`` cannot be a data file (missing, unknown suffix), or None. Config validation calls it."""
    if not path:
        return "the file generator needs a path (.npz, .zarr or .csv)"
    p = Path(path)
    if p.suffix not in SUFFIXES:
        return f"file {str(path)!r} has suffix {p.suffix!r}; expected one of {list(SUFFIXES)}"
    if not (p.is_dir() if p.suffix == ".zarr" else p.is_file()):
        return f"file {str(path)!r} does not exist"
    return None


def load(path: str, label_column: str = "label") -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """x (n, feature...) float32, y (n,) int64, is_train (n,) bool or None, checked; see the module docstring."""
    problem = check_path(path)
    if problem:
        raise DataFileError(problem)
    suffix = Path(path).suffix
    if suffix == ".npz":
        arrays = _read_npz(path)
    elif suffix == ".zarr":
        arrays = _read_zarr(path)
    else:
        arrays = _read_csv(path, label_column)
    return _checked(path, *arrays, y_key=label_column if suffix == ".csv" else "y")


def _read_npz(path: str):
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except (OSError, ValueError) as err:
        raise DataFileError(f"file {path!r} is not a readable .npz archive: {err}") from err
    for key in ("x", "y"):
        if key not in arrays:
            raise DataFileError(f"file {path!r} has no array {key!r}; it has {sorted(arrays)}")
    return arrays["x"], arrays["y"], arrays.get("is_train")


def _read_zarr(path: str):
    from ..io import load_store

    try:
        ds = load_store(path, "dataset store")
    except (OSError, ValueError, KeyError) as err:
        raise DataFileError(f"file {path!r} is not a readable Zarr store: {err}") from err
    for key in ("x", "y"):
        if key not in ds:
            raise DataFileError(f"file {path!r} has no variable {key!r}; it has {sorted(ds.data_vars)}")
    return ds["x"].values, ds["y"].values, ds["is_train"].values if "is_train" in ds else None


def _read_csv(path: str, label_column: str):
    import pandas as pd

    try:
        df = pd.read_csv(path)
    except (OSError, ValueError) as err:
        raise DataFileError(f"file {path!r} is not a readable CSV table: {err}") from err
    if label_column not in df.columns:
        raise DataFileError(
            f"file {path!r} has no label column {label_column!r} (config key label_column); "
            f"its columns: {list(df.columns)[:20]}"
        )
    features = [c for c in df.columns if c not in (label_column, "is_train")]
    bad = [c for c in features if not pd.api.types.is_numeric_dtype(df[c])]
    if bad:
        raise DataFileError(f"file {path!r}: feature columns {bad} are not numeric")
    if not features:
        raise DataFileError(f"file {path!r} has no feature column besides {label_column!r}")
    is_train = df["is_train"].to_numpy() if "is_train" in df.columns else None
    return df[features].to_numpy(), df[label_column].to_numpy(), is_train


def _checked(path: str, x, y, is_train, y_key: str):
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim == 1:
        x = x[:, None]
    if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
        raise DataFileError(f"file {path!r}: x must be real numbers, got dtype {x.dtype}")
    if not np.isfinite(x).all():
        rows = np.flatnonzero(~np.isfinite(x.reshape(len(x), -1)).all(axis=1))
        raise DataFileError(f"file {path!r}: x has NaN or inf in rows {rows[:10].tolist()}")
    if y.ndim != 1 or len(y) != len(x):
        raise DataFileError(f"file {path!r}: {y_key} must have shape ({len(x)},) to match x, got {y.shape}")
    if y.dtype == bool:
        y = y.astype(np.int64)
    if not np.issubdtype(y.dtype, np.number):
        raise DataFileError(f"file {path!r}: {y_key} must hold integer labels, got dtype {y.dtype}")
    whole = np.isfinite(y) & (np.round(y) == y) & (y >= 0)
    if not whole.all():
        bad = np.flatnonzero(~whole)
        raise DataFileError(
            f"file {path!r}: {y_key} must hold non-negative integer labels; rows {bad[:10].tolist()} "
            f"hold {y[bad[:3]].tolist()}"
        )
    if is_train is not None:
        is_train = np.asarray(is_train)
        if is_train.shape != (len(x),) or not np.isin(is_train, (0, 1)).all():
            raise DataFileError(
                f"file {path!r}: is_train must be ({len(x)},) booleans (or 0/1), got shape {is_train.shape}"
            )
        is_train = is_train.astype(bool)
    return x.astype(np.float32), y.astype(np.int64), is_train
