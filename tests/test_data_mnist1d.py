"""MNIST-1D from the optional mnist1d package's generator (offline, seeded); the error without the package."""

import random

import numpy as np
import pytest
from infoplane.config import ConfigError, validate_config
from infoplane.data import build_dataset
from infoplane.data import mnist1d as m1d
from test_data_digits_mnist import _config


def test_without_the_package_the_error_names_it_and_the_pip_command(monkeypatch):
    monkeypatch.setattr(m1d, "PACKAGE", "mnist1d_not_installed")
    with pytest.raises(ImportError, match=r"needs the package mnist1d_not_installed.*pip install mnist1d"):
        build_dataset("mnist1d", n_samples=20)
    with pytest.raises(ConfigError, match=r"datasets\.m\.generator: mnist1d needs the package .*pip install mnist1d"):
        validate_config(_config({"m": {"generator": "mnist1d"}}))


@pytest.mark.parametrize(
    "dataset, message",
    [
        ({"generator": "mnist1d", "n_samples": 25}, r"datasets\.m\.n_samples: 25 is not a multiple of 10"),
        ({"generator": "mnist1d", "max_samples": 20}, r"datasets\.m\.max_samples: mnist1d takes no parameter"),
        ({"generator": "digits", "n_samples": 20}, r"datasets\.m\.n_samples: digits takes no parameter"),
    ],
)
def test_config_rejects_bad_keys_naming_them(dataset, message):
    with pytest.raises(ConfigError, match=message):
        validate_config(_config({"m": dataset}))


def test_generates_a_balanced_seeded_split_set():
    pytest.importorskip("mnist1d")
    np.random.seed(123)
    random.seed(123)
    before = np.random.random(), random.random()
    np.random.seed(123)
    random.seed(123)
    ds = build_dataset("mnist1d", seed=3, n_samples=100, train_fraction=0.7)
    assert (np.random.random(), random.random()) == before  # the global generators are left as found
    assert ds["x"].dtype == np.float32 and ds["x"].dims == ("sample", "feature") and ds.sizes["feature"] == 40
    assert ds.sizes["sample"] == 100 and ds.attrs["generator"] == "mnist1d"
    assert np.array_equal(np.bincount(ds["y"].values), [10] * 10)  # a tenth per digit
    train = ds["is_train"].values
    assert train[:70].all() and not train[70:].any()
    x = ds["x"].values
    assert abs(x.mean()) < 1e-5 and abs(x.std() - 1) < 1e-5  # standardised over all signals, as the package does
    again = build_dataset("mnist1d", seed=3, n_samples=100, train_fraction=0.7)
    assert all(np.array_equal(again[v].values, ds[v].values) for v in ("x", "y", "is_train"))
    assert not np.array_equal(build_dataset("mnist1d", seed=4, n_samples=100)["x"].values, x)
    with pytest.raises(ValueError, match="multiple of 10"):
        build_dataset("mnist1d", n_samples=15)
