"""The command line: `infoplane estimate` prints the same estimate as the library, as JSON."""

import json

import numpy as np
import pytest
from infoplane.cli import main, parse_param
from infoplane.estimators import estimate


@pytest.fixture
def arrays(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((300, 2))
    y = x[:, :1] + rng.standard_normal((300, 1))
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    np.save(tmp_path / "labels.npy", (x[:, 0] > 0).astype(np.int64))
    return tmp_path, x, y


def test_estimate_prints_the_library_result(arrays, capsys):
    path, x, y = arrays
    assert (
        main(["estimate", "--method", "ksg", "--param", "k=5", str(path / "x.npy"), str(path / "y.npy")]) == 0
    )
    out = json.loads(capsys.readouterr().out)
    expected = estimate("ksg", x, y, k=5)
    assert out["mi_bits"] == pytest.approx(expected.mi_bits, abs=1e-12)
    assert out["ci_low_bits"] == pytest.approx(expected.ci_low_bits, abs=1e-12)
    assert out["params"]["k"] == 5 and out["method"] == "ksg" and out["n_samples"] == 300


def test_labels_and_no_ci(arrays, capsys):
    path, x, _ = arrays
    args = ["estimate", "--method", "kde", "--param", "bound='lower'", "--no-ci", str(path / "x.npy")]
    assert main([*args, str(path / "labels.npy")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ci_low_bits"] is None
    assert out["mi_bits"] == pytest.approx(
        estimate("kde", x, (x[:, 0] > 0).astype(np.int64), bound="lower", ci=False).mi_bits
    )


def test_errors_name_the_problem(arrays, capsys):
    path, _, _ = arrays
    assert (
        main(["estimate", "--method", "ksg", "--param", "k=0", str(path / "x.npy"), str(path / "y.npy")]) == 2
    )
    assert "k must be an integer >= 1" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="does not exist"):
        main(["estimate", "--method", "ksg", str(path / "nope.npy"), str(path / "y.npy")])
    assert parse_param("metric=euclidean") == ("metric", "euclidean")
    assert parse_param("noise=1e-10") == ("noise", 1e-10)
