"""Data from a file: .npz, .zarr and .csv read into the dataset contract; every bad file a clear error."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from infoplane.config import ConfigError, validate_config
from infoplane.data import build_dataset
from infoplane.data.files import DataFileError
from infoplane.io import write_new


@pytest.fixture
def arrays():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((50, 3)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64) + 2 * (x[:, 1] > 0)
    return x, y


def _write(kind, path, x, y, is_train=None):
    if kind == "npz":
        extra = {} if is_train is None else {"is_train": is_train}
        np.savez(path, x=x, y=y, **extra)
    elif kind == "zarr":
        data = {"x": (("sample", "feature"), x), "y": (("sample",), y)}
        if is_train is not None:
            data["is_train"] = (("sample",), is_train)
        write_new(xr.Dataset(data), path)
    else:
        df = pd.DataFrame(x, columns=[f"f{i}" for i in range(x.shape[1])])
        df.insert(1, "digit", y)  # the label column need not be last
        if is_train is not None:
            df["is_train"] = is_train
        df.to_csv(path, index=False)


@pytest.mark.parametrize("kind", ["npz", "zarr", "csv"])
def test_each_format_reads_the_arrays_written(kind, arrays, tmp_path):
    x, y = arrays
    is_train = np.arange(50) % 3 != 0
    path = str(tmp_path / f"data.{kind}")
    _write(kind, path, x, y, is_train)
    ds = build_dataset("file", path=path, label_column="digit" if kind == "csv" else None)
    np.testing.assert_array_equal(ds["x"].values, x)  # csv: float32 printed and read back exactly
    np.testing.assert_array_equal(ds["y"].values, y)
    np.testing.assert_array_equal(ds["is_train"].values, is_train)
    assert ds["x"].dims == ("sample", "feature") and ds.attrs["generator"] == "file"


def test_without_is_train_the_split_is_seeded_and_stratified(arrays, tmp_path):
    x, y = arrays
    _write("npz", tmp_path / "d.npz", x, y)
    a = build_dataset("file", path=str(tmp_path / "d.npz"), seed=3)
    b = build_dataset("file", path=str(tmp_path / "d.npz"), seed=3)
    c = build_dataset("file", path=str(tmp_path / "d.npz"), seed=4)
    np.testing.assert_array_equal(a["is_train"].values, b["is_train"].values)
    assert not np.array_equal(a["is_train"].values, c["is_train"].values)
    assert int(a["is_train"].sum()) == 40
    for label in np.unique(y):  # each class trains on 80% of its rows, to within one
        rows = a["is_train"].values[y == label]
        assert abs(rows.sum() - 0.8 * len(rows)) < 1


def test_images_keep_their_shape(tmp_path):
    x = np.random.default_rng(0).random((8, 1, 3, 2)).astype(np.float32)
    np.savez(tmp_path / "img.npz", x=x, y=np.arange(8) % 2)
    ds = build_dataset("file", path=str(tmp_path / "img.npz"))
    assert ds["x"].dims == ("sample", "feature", "feature_1", "feature_2")
    np.testing.assert_array_equal(ds["x"].values, x)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda x, y: (x, y[:-1]), r"y must have shape \(50,\) to match x, got \(49,\)"),
        (lambda x, y: (np.where(np.arange(50)[:, None] == 7, np.nan, x), y), r"x has NaN or inf in rows \[7\]"),
        (lambda x, y: (x, y + 0.5), "y must hold non-negative integer labels; rows"),
        (lambda x, y: (x, y - 1), "y must hold non-negative integer labels"),
    ],
)
def test_bad_arrays_are_errors_naming_file_and_key(mutate, message, arrays, tmp_path):
    path = str(tmp_path / "bad.npz")
    np.savez(path, **dict(zip(("x", "y"), mutate(*arrays), strict=True)))
    with pytest.raises(DataFileError, match=message) as err:
        build_dataset("file", path=path)
    assert path in str(err.value)


def test_missing_array_and_column(arrays, tmp_path):
    x, y = arrays
    np.savez(tmp_path / "noy.npz", x=x, labels=y)
    with pytest.raises(DataFileError, match="has no array 'y'; it has \\['labels', 'x'\\]"):
        build_dataset("file", path=str(tmp_path / "noy.npz"))
    _write("csv", tmp_path / "d.csv", x, y)
    with pytest.raises(DataFileError, match="no label column 'label' \\(config key label_column\\)"):
        build_dataset("file", path=str(tmp_path / "d.csv"))


def _config(path, **extra):
    return {
        "datasets": {"mine": {"generator": "file", "path": path, **extra}},
        "experiments": {"e": {"dataset": "mine"}},
        "estimators": {"binning_30": {"method": "binning", "bins": 30}},
    }


def test_config_names_a_missing_file_or_bad_suffix(tmp_path):
    with pytest.raises(ConfigError, match="datasets.mine.path: file '.*nope.npz' does not exist"):
        validate_config(_config(str(tmp_path / "nope.npz")))
    (tmp_path / "d.txt").write_text("1")
    with pytest.raises(ConfigError, match="datasets.mine.path: file .* has suffix '.txt'"):
        validate_config(_config(str(tmp_path / "d.txt")))
    with pytest.raises(ConfigError, match="datasets.mine.max_samples: file takes no parameter 'max_samples'"):
        validate_config(_config(str(tmp_path / "d.txt"), max_samples=3))


def test_config_accepts_a_zarr_folder(arrays, tmp_path):
    _write("zarr", tmp_path / "d.zarr", *arrays)
    cfg = validate_config(_config(str(tmp_path / "d.zarr")))
    assert cfg["datasets"]["mine"]["label_column"] is None
