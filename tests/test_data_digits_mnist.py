"""The digits and MNIST datasets, and the IDX reader, on files the tests write themselves."""

import gzip
import re
import struct

import numpy as np
import pytest
from infoplane.config import ConfigError, validate_config
from infoplane.data import build_dataset, digits, idx, mnist
from infoplane.data.splits import stratified_counts


def _contract(ds, n_features):
    assert ds["x"].dtype == np.float32 and ds["x"].dims == ("sample", "feature")
    assert ds.sizes["feature"] == n_features
    assert ds["y"].dtype == np.int64 and ds["is_train"].dtype == bool
    x = ds["x"].values
    assert x.min() >= 0 and x.max() <= 1


# ---------------------------------------------------------------- digits


def test_digits_shape_range_and_labels():
    x, y = digits.load()
    assert x.shape == (1797, 64) and x.dtype == np.float32 and y.dtype == np.int64
    assert x.min() == 0 and x.max() == 1  # pixel counts 0..16, divided by 16
    assert np.array_equal(np.unique(y), np.arange(10))
    assert np.allclose(x * 16, np.round(x * 16))
    ds = build_dataset("digits")
    _contract(ds, 64)
    assert ds.sizes["sample"] == 1797 and ds.attrs["generator"] == "digits"
    assert np.array_equal(ds["y"].values, y)  # rows keep file order


def test_digits_random_split_is_stratified_and_seeded():
    ds = build_dataset("digits", seed=3)
    y, train = ds["y"].values, ds["is_train"].values
    assert train.sum() == round(0.8 * 1797)
    per_class = np.bincount(y[train], minlength=10) / np.bincount(y, minlength=10)
    assert np.all(np.abs(per_class - 0.8) < 0.01)  # each class trains on 80% of its rows, to within one
    again = build_dataset("digits", seed=3)
    assert np.array_equal(again["is_train"].values, train)
    assert not np.array_equal(build_dataset("digits", seed=4)["is_train"].values, train)
    half = build_dataset("digits", seed=3, train_fraction=0.5)["is_train"].values
    assert half.sum() == round(0.5 * 1797)


def test_digits_original_split_keeps_file_order():
    train = build_dataset("digits", split="original")["is_train"].values
    assert train[:1438].all() and not train[1438:].any()


def test_digits_max_samples_is_stratified_and_deterministic():
    ds = build_dataset("digits", max_samples=200, seed=1)
    assert ds.sizes["sample"] == 200 and ds["is_train"].values.sum() == 160
    _, y = digits.load()
    expected = np.bincount(y) * 200 / len(y)  # 19.4 to 20.4 of each digit
    assert np.all(np.abs(np.bincount(ds["y"].values, minlength=10) - expected) < 1)
    again = build_dataset("digits", max_samples=200, seed=1)
    assert np.array_equal(ds["x"].values, again["x"].values)
    assert not np.array_equal(ds["x"].values, build_dataset("digits", max_samples=200, seed=2)["x"].values)
    assert build_dataset("digits", max_samples=5000).sizes["sample"] == 1797  # at most: all rows


def test_stratified_counts_are_proportional_and_exact():
    counts = stratified_counts(np.array([50, 30, 20]), 7)
    assert counts.sum() == 7 and np.all(np.abs(counts - np.array([3.5, 2.1, 1.4])) < 1)
    assert np.array_equal(stratified_counts(np.array([5, 5]), 10), [5, 5])


# ---------------------------------------------------------------- the IDX reader


def _idx_bytes(type_code, shape, payload):
    return bytes([0, 0, type_code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape) + payload


def test_idx_reads_hand_written_files(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "images").write_bytes(_idx_bytes(0x08, images.shape, images.tobytes()))
    labels = np.array([7, 2, 9], dtype=np.uint8)
    (tmp_path / "labels").write_bytes(_idx_bytes(0x08, labels.shape, labels.tobytes()))
    floats = np.array([[1.5, -2.25], [np.pi, 1e-30]], dtype=np.float32)
    (tmp_path / "floats").write_bytes(_idx_bytes(0x0D, floats.shape, floats.astype(">f4").tobytes()))
    ints = np.array([-(2**31), 2**31 - 1, 0], dtype=np.int32)
    (tmp_path / "ints").write_bytes(_idx_bytes(0x0C, ints.shape, ints.astype(">i4").tobytes()))

    got = idx.read_idx(tmp_path / "images")
    assert got.dtype == np.uint8 and got.shape == (2, 3, 4) and np.array_equal(got, images)
    got = idx.read_idx(tmp_path / "labels")
    assert got.shape == (3,) and np.array_equal(got, labels)
    got = idx.read_idx(tmp_path / "floats")
    assert got.dtype == np.float32 and got.dtype.isnative and np.array_equal(got, floats)
    assert np.array_equal(idx.read_idx(tmp_path / "ints"), ints)


def test_idx_reads_gzip_by_extension_and_by_magic(tmp_path):
    array = np.arange(12, dtype=np.uint8).reshape(3, 4)
    content = gzip.compress(_idx_bytes(0x08, array.shape, array.tobytes()))
    (tmp_path / "a.gz").write_bytes(content)
    (tmp_path / "a-no-extension").write_bytes(content)
    assert np.array_equal(idx.read_idx(tmp_path / "a.gz"), array)
    assert np.array_equal(idx.read_idx(tmp_path / "a-no-extension"), array)


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "float32", "float64"])
@pytest.mark.parametrize("name", ["data", "data.gz"])
def test_idx_round_trip_is_exact(tmp_path, dtype, name):
    rng = np.random.default_rng(0)
    array = (rng.standard_normal((3, 5, 2)) * 100).astype(dtype)
    idx.write_idx(tmp_path / name, array)
    got = idx.read_idx(tmp_path / name)
    assert got.dtype == np.dtype(dtype) and np.array_equal(got, array)


# (file name, its bytes, what the error must say): each damaged file is named in the message.
BAD_IDX_FILES = [
    ("bad-magic", b"\x01\x00\x08\x01" + struct.pack(">I", 2) + b"\x00\x00", r"bad magic number"),
    ("bad-type", b"\x00\x00\x07\x01" + struct.pack(">I", 2) + b"\x00\x00", r"bad magic number"),
    ("short", _idx_bytes(0x08, (4, 3), bytes(11)), r"truncated.*needs 12 bytes of data, found 11"),
    ("short-header", b"\x00\x00\x08\x03" + struct.pack(">I", 2), r"truncated"),
    ("tiny", b"\x00\x00", r"truncated"),
    ("long", _idx_bytes(0x08, (2,), bytes(3)), r"1 bytes after the data"),
    ("not-gzip.gz", b"plain text", r"gzip"),
    ("cut.gz", gzip.compress(_idx_bytes(0x08, (100,), bytes(100)))[:-10], r""),
]


def test_idx_error_for_a_missing_file_names_it(tmp_path):
    with pytest.raises(ValueError, match=r"missing-file.*does not exist"):
        idx.read_idx(tmp_path / "missing-file")


@pytest.mark.parametrize("name, content, message", BAD_IDX_FILES, ids=[row[0] for row in BAD_IDX_FILES])
def test_idx_errors_name_the_file(tmp_path, name, content, message):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(ValueError, match=re.escape(name) + ".*" + message):
        idx.read_idx(tmp_path / name)


# ---------------------------------------------------------------- MNIST


def _fake_mnist(folder, n_train=60, n_test=20, gz=False, seed=0):
    """A tiny MNIST folder: 28x28 uint8 images; labels 0..9 with unequal class sizes."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for part, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        images[0, 0, 0], images[-1, -1, -1] = 0, 255
        labels = (np.arange(n) % 10).astype(np.uint8)
        labels[: n // 4] = 3  # class 3 is common
        rng.shuffle(labels)
        arrays[part] = (images, labels)
        suffix = ".gz" if gz else ""
        idx.write_idx(folder / f"{part}-images-idx3-ubyte{suffix}", images)
        idx.write_idx(folder / f"{part}-labels-idx1-ubyte{suffix}", labels)
    return arrays


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_gives_the_contract(tmp_path, gz):
    arrays = _fake_mnist(tmp_path / "mnist", gz=gz)
    ds = build_dataset("mnist", path=str(tmp_path / "mnist"))
    _contract(ds, 784)
    assert ds.sizes["sample"] == 80 and ds.attrs["generator"] == "mnist"
    train = ds["is_train"].values
    assert train[:60].all() and not train[60:].any()
    images = np.concatenate([arrays["train"][0], arrays["t10k"][0]])
    labels = np.concatenate([arrays["train"][1], arrays["t10k"][1]])
    assert np.array_equal(ds["x"].values, images.reshape(80, 784).astype(np.float32) / 255)
    assert ds["x"].values.max() == 1 and ds["x"].values.min() == 0
    assert np.array_equal(ds["y"].values, labels)


def test_mnist_max_samples_is_stratified_and_deterministic(tmp_path):
    _fake_mnist(tmp_path / "mnist", n_train=400, n_test=100)
    full = build_dataset("mnist", path=tmp_path / "mnist")
    ds = build_dataset("mnist", path=tmp_path / "mnist", max_samples=100, seed=5)
    assert ds.sizes["sample"] == 100
    train = ds["is_train"].values
    assert train.sum() == 80  # the files' 4:1 proportion is kept
    assert train[:80].all()  # training rows still come first
    for part, n_part in ((train, 80), (~train, 20)):
        # each part keeps its class proportions to within one row per class
        full_part = full["is_train"].values if n_part == 80 else ~full["is_train"].values
        expected = np.bincount(full["y"].values[full_part], minlength=10) * n_part / full_part.sum()
        assert np.all(np.abs(np.bincount(ds["y"].values[part], minlength=10) - expected) < 1)
    # the rows are rows of the full set, in the same order
    rows = [int(np.flatnonzero((full["x"].values == r).all(1))[0]) for r in ds["x"].values]
    assert rows == sorted(rows)
    again = build_dataset("mnist", path=tmp_path / "mnist", max_samples=100, seed=5)
    assert np.array_equal(again["x"].values, ds["x"].values)
    other = build_dataset("mnist", path=tmp_path / "mnist", max_samples=100, seed=6)
    assert not np.array_equal(other["x"].values, ds["x"].values)


def test_mnist_errors_name_the_file(tmp_path):
    with pytest.raises(ValueError, match="mnist needs path"):
        build_dataset("mnist")
    with pytest.raises(ValueError, match=r"nowhere.*does not exist"):
        build_dataset("mnist", path=tmp_path / "nowhere")
    folder = tmp_path / "mnist"
    _fake_mnist(folder)
    (folder / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(ValueError, match=r"lacks t10k-labels-idx1-ubyte"):
        build_dataset("mnist", path=folder)
    idx.write_idx(folder / "t10k-labels-idx1-ubyte", np.zeros(19, np.uint8))  # 20 images
    with pytest.raises(ValueError, match=r"t10k-images-idx3-ubyte.*t10k-labels-idx1-ubyte.*20 images but 19 labels"):
        build_dataset("mnist", path=folder)
    idx.write_idx(folder / "t10k-labels-idx1-ubyte", np.zeros((20, 1), np.uint8))
    with pytest.raises(ValueError, match=r"t10k-labels-idx1-ubyte.*integer labels \(n,\)"):
        build_dataset("mnist", path=folder)
    idx.write_idx(folder / "t10k-labels-idx1-ubyte", np.zeros(20, np.uint8))
    (folder / "train-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x03" + struct.pack(">3I", 60, 28, 28))
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte.*truncated"):
        build_dataset("mnist", path=folder)
    idx.write_idx(folder / "train-images-idx3-ubyte", np.zeros((60, 28, 28), np.float32))
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte.*uint8 images"):
        build_dataset("mnist", path=folder)
    with pytest.raises(ValueError, match="mnist takes no parameter 'split'"):
        build_dataset("mnist", path=folder, split="random")


# ---------------------------------------------------------------- the config


def _config(datasets):
    return {
        "datasets": datasets,
        "estimators": {"b": {"method": "binning"}},
        "experiments": {"e": {"dataset": next(iter(datasets)), "estimators": ["b"]}},
    }


def test_config_accepts_digits_and_mnist(tmp_path):
    _fake_mnist(tmp_path / "mnist", n_train=10, n_test=10, gz=True)
    cfg = validate_config(
        _config(
            {
                "dig": {"generator": "digits", "max_samples": 500},
                "mn": {"generator": "mnist", "path": str(tmp_path / "mnist"), "max_samples": 20},
            }
        )
    )
    assert cfg["datasets"]["dig"]["split"] is None  # the generator's default: random for digits
    spec = dict(cfg["datasets"]["dig"])
    ds = build_dataset(spec.pop("generator"), **spec)  # as the dataset rule calls it, every key filled
    assert ds.sizes["sample"] == 500
    spec = dict(cfg["datasets"]["mn"])
    assert build_dataset(spec.pop("generator"), **spec).sizes["sample"] == 20


@pytest.mark.parametrize(
    "dataset, message",
    [
        ({"generator": "mnist"}, r"datasets\.m\.path: mnist needs path"),
        ({"generator": "mnist", "path": "/nonexistent/mnist"}, r"datasets\.m\.path: folder '/nonexistent/mnist'"),
        ({"generator": "mnist", "path": ".", "split": "random"}, r"datasets\.m\.split: mnist takes no parameter"),
        ({"generator": "digits", "split_path": "x.npz"}, r"datasets\.m\.split_path: digits takes no parameter"),
        ({"generator": "tishby12", "max_samples": 10}, r"datasets\.m\.max_samples: tishby12 takes no parameter"),
        ({"generator": "digits", "max_samples": 0}, r"datasets\.m\.max_samples: 0 is less than the minimum of 1"),
        ({"generator": "digits", "split": "stratified"}, r"datasets\.m\.split: 'stratified' is not one of"),
    ],
)
def test_config_rejects_bad_datasets_naming_the_key(dataset, message):
    with pytest.raises(ConfigError, match=message):
        validate_config(_config({"m": dataset}))


def test_config_names_missing_mnist_files(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match=r"datasets\.m\.path: folder .*empty' lacks train-images-idx3-ubyte"):
        validate_config(_config({"m": {"generator": "mnist", "path": str(tmp_path / "empty")}}))


def test_mnist_finds_the_dotted_spelling(tmp_path):
    _fake_mnist(tmp_path, n_train=10, n_test=10)
    for path in tmp_path.iterdir():
        path.rename(path.with_name(path.name.replace("-idx", ".idx")))
    assert mnist.check_folder(tmp_path) is None
    assert build_dataset("mnist", path=tmp_path).sizes["sample"] == 20
