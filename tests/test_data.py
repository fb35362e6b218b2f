"""The 12-bit task: generated and original, its loaders and its splits."""

import numpy as np
import pytest
import torch
from infoplane.data import build_dataset, tishby12
from infoplane.data.splits import train_mask
from infoplane.estimators.binning import discrete_entropy_bits


def test_generated_task_properties():
    x, y = tishby12.generate(seed=0)
    assert x.shape == (4096, 12)
    assert len(np.unique(x, axis=0)) == 4096  # every 12-bit pattern once
    assert np.array_equal(x[5], [0] * 9 + [1, 0, 1])  # counting order, most significant bit first
    assert abs(y.mean() - 0.5) < 0.01  # thresholded at the median: classes near 50/50
    assert discrete_entropy_bits(torch.as_tensor(y)) > 0.999


def test_label_is_spherically_symmetric_in_the_bit_count():
    # As in the original task, the label depends mostly on how many bits are on.
    x, y = tishby12.generate(seed=0)
    weight = x.sum(1)
    assert y[weight <= 3].mean() < 0.02 and y[weight >= 9].mean() > 0.98
    assert 0.3 < y[weight == 6].mean() < 0.7  # the middle is mixed, as in var_u.mat


def test_generation_is_seeded():
    _, y0 = tishby12.generate(seed=0)
    _, y0_again = tishby12.generate(seed=0)
    _, y1 = tishby12.generate(seed=1)
    assert np.array_equal(y0, y0_again)
    assert not np.array_equal(y0, y1)


def test_load_original_mat(shared_data):
    x, y = tishby12.load_mat(shared_data / "var_u.mat")
    assert x.shape == (4096, 12) and len(np.unique(x, axis=0)) == 4096
    assert np.array_equal(x, tishby12.all_patterns())
    assert discrete_entropy_bits(torch.as_tensor(y)) == pytest.approx(0.99916, abs=5e-6)
    ds = build_dataset("tishby12", path=str(shared_data / "var_u.mat"))
    assert int(ds["is_train"].sum()) == 3277 and bool(ds["is_train"][:3277].all())


def test_load_saxe_split(shared_data):
    x, y, is_train = tishby12.load_saxe_split(shared_data / "saxe2018_ib_split.npz")
    assert x.shape == (4096, 12) and is_train.sum() == 3277
    assert len(np.unique(x, axis=0)) == 4096
    # its labels agree with var_u.mat on every pattern
    xm, ym = tishby12.load_mat(shared_data / "var_u.mat")
    index = x.astype(int) @ (1 << np.arange(11, -1, -1))
    assert np.array_equal(ym[index], y)


def test_mat_loader_names_the_file_and_key(tmp_path):
    from scipy.io import savemat

    with pytest.raises(ValueError, match="does not exist"):
        tishby12.load_mat(tmp_path / "missing.mat")
    bad = tmp_path / "bad.mat"
    savemat(bad, {"F": np.zeros((4, 12))})
    with pytest.raises(ValueError, match=r"bad\.mat.*'y'"):
        tishby12.load_mat(bad)
    junk = tmp_path / "junk.mat"
    junk.write_text("not a mat file")
    with pytest.raises(ValueError, match="junk.mat"):
        tishby12.load_mat(junk)


def test_splits():
    original = train_mask(4096, 0.8, "original", seed=0)
    assert original.sum() == 3277 and original[:3277].all()
    random_a = train_mask(4096, 0.8, "random", seed=0)
    random_b = train_mask(4096, 0.8, "random", seed=0)
    assert random_a.sum() == 3277 and np.array_equal(random_a, random_b)
    assert not np.array_equal(random_a, train_mask(4096, 0.8, "random", seed=1))
    with pytest.raises(ValueError, match="split must be one of"):
        train_mask(10, 0.8, "stratified", seed=0)


def test_dataset_contract():
    ds = build_dataset("tishby12", seed=0)
    assert set(ds.data_vars) == {"x", "y", "is_train"}
    assert ds["x"].dims == ("sample", "feature") and ds["y"].dims == ("sample",)
    assert ds.attrs["generator"] == "tishby12" and ds.attrs["seed"] == 0
