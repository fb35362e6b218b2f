"""`infoplane plane`: the MI table of activations computed anywhere, checked against closed forms and the library."""

import re

import numpy as np
import pandas as pd
import pytest
from infoplane.analysis import MI_COLUMNS
from infoplane.analysis.external import read_activations
from infoplane.cli import main
from infoplane.estimators import estimate
from infoplane.extraction import write_activations


@pytest.fixture
def files(tmp_path):
    """Two layers at epochs 10 and 20 of 64 samples with 4 balanced classes.

    layer1 at epoch 10 takes one value per class (4 bins of [-1, 1]): I(X;T) = H(T) = 2 bits and
    I(T;Y) = H(Y) = 2 bits; at epoch 20 it is constant: 0 bits. layer2 is noise (for KSG).
    """
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(4), 16)
    x = rng.standard_normal((64, 3))
    layer1 = np.stack([np.array([-0.9, -0.3, 0.3, 0.9])[y][:, None] * np.ones((1, 2)), np.zeros((64, 2))])
    layer2 = rng.standard_normal((2, 64, 2, 2))  # (epoch, sample, unit...) flattened to 4 units
    np.savez(tmp_path / "acts.npz", layer1=layer1, layer2=layer2, epoch=np.array([10, 20]))
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    return tmp_path, x, y, layer2.reshape(2, 64, 4)


def _plane(path, acts, *extra):
    return main(["plane", "--activations", str(acts), "--inputs", str(path / "x.npy"),
                 "--labels", str(path / "y.npy"), "--out", str(path / "mi.csv"), *extra])  # fmt: skip


def test_binning_table_matches_the_closed_form(files):
    path, *_ = files
    assert _plane(path, path / "acts.npz", "--estimator", "binning", "--param", "bins=30",
                  "--figure", str(path / "plane.png")) == 0  # fmt: skip
    table = pd.read_csv(path / "mi.csv")
    assert list(table.columns) == MI_COLUMNS and len(table) == 2 * 2 * 2
    layer1 = table[table["layer"] == 1].set_index(["epoch", "quantity"])["mi_bits"]
    assert layer1[(10, "I_XT")] == pytest.approx(2.0) and layer1[(10, "I_TY")] == pytest.approx(2.0)
    assert layer1[(20, "I_XT")] == pytest.approx(0.0, abs=1e-12) and layer1[(20, "I_TY")] == pytest.approx(
        0.0, abs=1e-12
    )
    assert (path / "plane.png").read_bytes()[:4] == b"\x89PNG"


def test_ksg_numbers_equal_the_library_estimate_and_zarr_equals_npz(files):
    path, x, y, layer2 = files
    assert _plane(path, path / "acts.npz", "--estimator", "ksg", "--param", "k=3", "--param", "ci=False") == 0
    table = pd.read_csv(path / "mi.csv").set_index(["epoch", "layer", "quantity"])["mi_bits"]
    for e, epoch in enumerate((10, 20)):
        assert table[(epoch, 2, "I_XT")] == pytest.approx(estimate("ksg", x, layer2[e], k=3, ci=False).mi_bits)
        assert table[(epoch, 2, "I_TY")] == pytest.approx(estimate("ksg", layer2[e], y, k=3, ci=False).mi_bits)
    # The workflow's own store format gives the same table.
    acts, _ = read_activations(path / "acts.npz")
    write_activations(acts, path / "acts.zarr")
    first = pd.read_csv(path / "mi.csv")
    assert _plane(path, path / "acts.zarr", "--estimator", "ksg", "--param", "k=3", "--param", "ci=False") == 0
    second = pd.read_csv(path / "mi.csv")
    pd.testing.assert_frame_equal(first.drop(columns="seconds"), second.drop(columns="seconds"))


def test_arrays_with_other_names_are_numbered_in_file_order(files, capsys):
    path, *_ = files
    rng = np.random.default_rng(1)
    np.savez(path / "mine.npz", encoder=rng.random((64, 3)), head=rng.random((64, 4)))  # one epoch each
    assert _plane(path, path / "mine.npz", "--estimator", "binning") == 0
    assert "{1: 'encoder', 2: 'head'}" in capsys.readouterr().err
    table = pd.read_csv(path / "mi.csv")
    assert sorted(table["layer"].unique()) == [1, 2] and set(table["epoch"]) == {0}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: np.save(p / "y.npy", np.arange(5)), r"labels must have shape \(64,\)"),
        (lambda p: (p / "x.npy").unlink(), "inputs file '.*x.npy' does not exist"),
        (lambda p: np.savez(p / "acts.npz", layer1=np.zeros(64)), "array 'layer1' must be"),
    ],
)
def test_errors_name_the_file(files, change, message, capsys):
    path, *_ = files
    change(path)
    assert _plane(path, path / "acts.npz", "--estimator", "binning") == 2
    assert re.search(message, capsys.readouterr().err)
    assert not (path / "mi.csv").exists()
