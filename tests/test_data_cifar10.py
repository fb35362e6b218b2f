"""CIFAR-10 from a tiny fake of the python archive, as a folder and as a .tar.gz, in the real pickle format."""

import io
import pickle
import tarfile

import numpy as np
import pytest
from conftest import REPO
from infoplane.config import ConfigError, validate_config
from infoplane.data import build_dataset, cifar10
from test_data_digits_mnist import _config, _contract
from test_workflow import TINY, snakemake

FOLDER = "cifar-10-batches-py"


def _batch(n, seed, label_offset=0):
    """One batch as the real files hold it: bytes keys, data (n, 3072) uint8, labels a list of ints."""
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
    labels = [int(v) for v in (np.arange(n) + label_offset) % 10]
    labels[: n // 4] = [3] * (n // 4)  # class 3 is common
    return {b"batch_label": b"fake batch", b"labels": labels, b"data": data, b"filenames": [b"x.png"] * n}


def _fake_batches(n_train=8, n_test=10):
    batches = {name: _batch(n_train, k, k) for k, name in enumerate(cifar10.TRAIN_FILES)}
    batches["test_batch"] = _batch(n_test, 9)
    # a known image: batch 1's first row; red (row 1, col 2) = 255, green (row 3, col 4) = 51, blue (31, 0) = 102
    pattern = np.zeros(3072, np.uint8)
    pattern[0 * 1024 + 1 * 32 + 2] = 255
    pattern[1 * 1024 + 3 * 32 + 4] = 51
    pattern[2 * 1024 + 31 * 32 + 0] = 102
    batches["data_batch_1"][b"data"][0] = pattern
    return batches


def _write_folder(root, batches):
    folder = root / FOLDER
    folder.mkdir(parents=True)
    for name, batch in batches.items():
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))
    (folder / "batches.meta").write_bytes(pickle.dumps({b"label_names": [b"airplane"] * 10}, protocol=2))
    return folder


def _write_archive(path, batches, skip=()):
    """A .tar.gz with the real member names (the folder entry, the batches, batches.meta, readme.html)."""
    with tarfile.open(path, "w:gz") as tar:
        entry = tarfile.TarInfo(FOLDER)
        entry.type = tarfile.DIRTYPE
        tar.addfile(entry)
        members = {name: pickle.dumps(batch, protocol=2) for name, batch in batches.items() if name not in skip}
        members["readme.html"] = b"<html></html>"
        for name, content in members.items():
            info = tarfile.TarInfo(f"{FOLDER}/{name}")
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return path


def test_folder_and_archive_give_the_same_contract(tmp_path):
    batches = _fake_batches()
    folder = _write_folder(tmp_path / "extracted", batches)
    archive = _write_archive(tmp_path / "cifar-10-python.tar.gz", batches)
    ds = build_dataset("cifar10", path=str(folder))
    _contract(ds, 3072)
    assert ds.sizes["sample"] == 50 and ds.attrs["generator"] == "cifar10"
    train = ds["is_train"].values
    assert train[:40].all() and not train[40:].any()  # five training batches of 8, then the test batch
    order = [*cifar10.TRAIN_FILES, "test_batch"]
    assert np.array_equal(ds["y"].values, np.concatenate([batches[n][b"labels"] for n in order]))
    assert set(np.unique(ds["y"].values)) <= set(range(10))
    images = np.concatenate([batches[n][b"data"] for n in order])
    assert np.array_equal(ds["x"].values, images.astype(np.float32) / 255)
    for path in (archive, tmp_path / "extracted"):  # the archive, and the folder holding cifar-10-batches-py
        other = build_dataset("cifar10", path=path)
        assert all(np.array_equal(other[v].values, ds[v].values) for v in ("x", "y", "is_train"))


def test_pixel_order_is_channel_row_column(tmp_path):
    folder = _write_folder(tmp_path, _fake_batches())
    image = build_dataset("cifar10", path=folder)["x"].values[0].reshape(3, 32, 32)  # torch's (C, H, W)
    marked = {(0, 1, 2): 1.0, (1, 3, 4): 0.2, (2, 31, 0): 0.4}
    assert {tuple(map(int, i)): float(image[tuple(i)]) for i in np.argwhere(image)} == pytest.approx(marked)


def test_max_samples_is_stratified_and_keeps_the_split(tmp_path):
    folder = _write_folder(tmp_path, _fake_batches(n_train=40, n_test=50))  # 200 training rows, 50 test
    full = build_dataset("cifar10", path=folder)
    ds = build_dataset("cifar10", path=folder, max_samples=50, seed=1)
    train = ds["is_train"].values
    assert ds.sizes["sample"] == 50 and train.sum() == 40 and train[:40].all()  # the files' 4:1, training first
    for part, n_part, full_part in ((train, 40, full["is_train"].values), (~train, 10, ~full["is_train"].values)):
        expected = np.bincount(full["y"].values[full_part], minlength=10) * n_part / full_part.sum()
        assert np.all(np.abs(np.bincount(ds["y"].values[part], minlength=10) - expected) < 1)
    again = build_dataset("cifar10", path=folder, max_samples=50, seed=1)
    assert np.array_equal(again["x"].values, ds["x"].values)
    assert not np.array_equal(build_dataset("cifar10", path=folder, max_samples=50, seed=2)["x"].values, ds["x"].values)


def test_errors_name_the_path_and_the_files(tmp_path):
    with pytest.raises(ValueError, match="cifar10 needs path"):
        build_dataset("cifar10")
    with pytest.raises(ValueError, match=r"nowhere' does not exist.*data_batch_1.*test_batch"):
        build_dataset("cifar10", path=tmp_path / "nowhere")
    batches = _fake_batches()
    folder = _write_folder(tmp_path, batches)
    (folder / "test_batch").unlink()
    (folder / "data_batch_4").unlink()
    assert cifar10.check_folder(folder) == f"folder {str(folder)!r} lacks data_batch_4, test_batch"
    archive = _write_archive(tmp_path / "part.tar.gz", batches, skip=("data_batch_2",))
    with pytest.raises(ValueError, match=r"archive .*part.tar.gz' lacks cifar-10-batches-py/data_batch_2$"):
        build_dataset("cifar10", path=archive)
    (tmp_path / "junk.tar.gz").write_bytes(b"not a tar archive")
    assert "junk.tar.gz' cannot be read as a tar archive" in cifar10.check_folder(tmp_path / "junk.tar.gz")


def _python2_pickle(data: np.ndarray, labels: list[int]) -> bytes:
    """A batch as Python 2's cPickle wrote the real files: str (bytes) keys, numpy.core.multiarray."""

    def string(b):  # a Python 2 str: BINSTRING
        return b"T" + len(b).to_bytes(4, "little") + b

    def int1(v):
        return b"K" + bytes([v])

    array = (
        b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\n" + int1(0) + b"\x85" + string(b"b") + b"\x87R"
        b"(" + int1(1) + b"J" + data.shape[0].to_bytes(4, "little") + b"J" + data.shape[1].to_bytes(4, "little")
        + b"\x86cnumpy\ndtype\n" + string(b"u1") + int1(0) + int1(1) + b"\x87R"
        b"(" + int1(3) + string(b"|") + b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xff" + int1(0) + b"tb"
        b"\x89" + string(data.tobytes()) + b"tb"
    )  # fmt: skip
    return b"\x80\x02}(" + string(b"data") + array + string(b"labels") + b"](" + b"".join(map(int1, labels)) + b"eu."


def test_a_python2_pickle_as_in_the_real_archive_loads(tmp_path):
    folder = _write_folder(tmp_path, _fake_batches(n_train=2, n_test=2))
    data = np.arange(2 * 3072, dtype=np.uint32).reshape(2, 3072).astype(np.uint8)
    (folder / "test_batch").write_bytes(_python2_pickle(data, [4, 9]))
    ds = build_dataset("cifar10", path=folder)
    assert np.array_equal(ds["x"].values[-2:], data / np.float32(255)) and list(ds["y"].values[-2:]) == [4, 9]


class _Trap:
    def __reduce__(self):
        return (print, ("a pickle that runs code",))


@pytest.mark.parametrize(
    "content, message",
    [
        (pickle.dumps({b"data": _Trap(), b"labels": []}), r"refuses to construct builtins\.print"),
        (pickle.dumps({b"data": np.zeros((2, 3072), np.uint8)}), r"must be a dict with b'data' and b'labels'"),
        (pickle.dumps({b"data": np.zeros((2, 3071), np.uint8), b"labels": [0, 1]}), r"uint8 \(n, 3072\)"),
        (pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0]}), r"2 integers \(one per image\)"),
        (pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 10]}), r"labels must lie in 0\.\.9"),
        (b"\x80\x02truncated", r"cannot be read"),
    ],
    ids=["code", "no-labels", "shape", "count", "label-range", "truncated"],
)
def test_a_bad_batch_is_refused_naming_the_file(tmp_path, capsys, content, message):
    folder = _write_folder(tmp_path, _fake_batches(n_train=2, n_test=2))
    (folder / "data_batch_3").write_bytes(content)
    with pytest.raises(ValueError, match=r"data_batch_3.*" + message):
        build_dataset("cifar10", path=folder)
    assert "runs code" not in capsys.readouterr().out
    archive = tmp_path / "bad.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder, arcname=FOLDER)
    with pytest.raises(ValueError, match=r"cifar-10-batches-py/data_batch_3 of .*bad.tar.gz'.*" + message):
        build_dataset("cifar10", path=archive)


def test_config_checks_the_path_naming_the_key(tmp_path):
    _write_archive(tmp_path / "c.tar.gz", _fake_batches(n_train=2, n_test=2))
    cfg = validate_config(
        _config({"c": {"generator": "cifar10", "path": str(tmp_path / "c.tar.gz"), "max_samples": 5}})
    )
    spec = dict(cfg["datasets"]["c"])
    assert build_dataset(spec.pop("generator"), **spec).sizes["sample"] == 5  # as the dataset rule calls it
    (tmp_path / "empty").mkdir()
    for path, message in [
        (None, r"datasets\.c\.path: cifar10 needs path"),
        (str(tmp_path / "missing"), r"datasets\.c\.path: '.*missing' does not exist .*data_batch_1"),
        (str(tmp_path / "empty"), r"datasets\.c\.path: folder '.*empty' lacks data_batch_1, .*, test_batch"),
    ]:
        with pytest.raises(ConfigError, match=message):
            validate_config(_config({"c": {"generator": "cifar10", "path": path}}))
    with pytest.raises(ConfigError, match=r"datasets\.c\.split: cifar10 takes no parameter"):
        validate_config(_config({"c": {"generator": "cifar10", "path": str(tmp_path / "c.tar.gz"), "split": "random"}}))


@pytest.mark.slow  # a Snakemake process that gets as far as the semantic checks (imports torch): 5-15 s
def test_dry_run_with_a_missing_cifar_folder_fails_naming_the_key(tmp_path):
    text = (REPO / TINY).read_text()  # a --configfile replaces config/config.yaml: a whole config, plus one dataset
    assert text.count("\ndatasets:\n") == 1
    config = tmp_path / "cifar.yaml"
    config.write_text(
        text.replace("\ndatasets:\n", f"\ndatasets:\n  cifar: {{generator: cifar10, path: {tmp_path / 'missing'}}}\n")
    )
    out = snakemake("-n", "--configfile", str(config), check=False)
    assert out.returncode != 0
    assert f"datasets.cifar.path: '{tmp_path / 'missing'}' does not exist" in out.stderr
    assert "data_batch_1, data_batch_2, data_batch_3, data_batch_4, data_batch_5, test_batch" in out.stderr
    assert "Traceback" not in out.stderr
