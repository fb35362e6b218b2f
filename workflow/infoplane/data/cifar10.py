"""CIFAR-10 from the python version of the archive in a local path (no download).

``path`` is the archive ``cifar-10-python.tar.gz`` itself, or the folder ``cifar-10-batches-py``
extracted from it (or the folder holding that one). The six batch files ``data_batch_1`` ..
``data_batch_5`` and ``test_batch`` are pickled dicts: ``b"data"`` a (n, 3072) uint8 array whose
rows are 1024 red, then 1024 green, then 1024 blue pixels, each plane a 32x32 image in row-major
order (so ``row.reshape(3, 32, 32)`` is channel, row, column); ``b"labels"`` n integers 0..9.
Rows are the five training batches' in order, then the test batch's.

An archive is read in memory, member by member (nothing is extracted to disk); only the six batch
files are opened, and their pickles may name nothing but numpy's array and dtype constructors (a
pickle naming any other callable is refused, not run).
"""

from __future__ import annotations

import io
import pickle
import tarfile
from pathlib import Path

import numpy as np

FOLDER = "cifar-10-batches-py"  # the folder inside the archive
TRAIN_FILES = [f"data_batch_{k}" for k in range(1, 6)]
TEST_FILE = "test_batch"
FILES = [*TRAIN_FILES, TEST_FILE]
PIXELS = 3 * 32 * 32

# What a batch's pickle may construct: numpy arrays and dtypes (numpy 1 and 2 spell the module
# differently), and bytes as Python 3's protocol-2 pickles write them.
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("_codecs", "encode"),
}


class _BatchUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(f"refuses to construct {module}.{name} (a CIFAR batch holds arrays only)")
        return super().find_class(module, name)


def _is_archive(path: Path) -> bool:
    return path.is_file()


def _batch_folder(folder: Path) -> Path:
    """``folder``, or its ``cifar-10-batches-py`` subfolder when the files are there instead."""
    inner = folder / FOLDER
    if not any((folder / name).is_file() for name in FILES) and inner.is_dir():
        return inner
    return folder


def find_files(path: str | Path) -> tuple[dict[str, Path | str], list[str]]:
    """({file name: where} for the batch files found, [names of the files missing]) in ``path``.

    For a folder, ``where`` is the file's path; for an archive, its member name
    (``cifar-10-batches-py/data_batch_1``). Reading an archive's index reads it through (gzip).
    """
    path = Path(path)
    if _is_archive(path):
        with tarfile.open(path, "r:*") as tar:
            members = {m.name.removeprefix("./"): m for m in tar.getmembers() if m.isfile()}
        found = {name: f"{FOLDER}/{name}" for name in FILES if f"{FOLDER}/{name}" in members}
    else:
        folder = _batch_folder(path)
        found = {name: folder / name for name in FILES if (folder / name).is_file()}
    return found, [name for name in FILES if name not in found]


def check_folder(path: str | Path | None) -> str | None:
    """What is wrong with ``path`` as the CIFAR-10 archive or folder, or None when it holds the six batches."""
    if path is None:
        return f"cifar10 needs path: the cifar-10-python.tar.gz archive or its extracted folder {FOLDER}"
    path = Path(path)
    if not path.exists():
        return f"{str(path)!r} does not exist (cifar-10-python.tar.gz or a folder {FOLDER} with {', '.join(FILES)})"
    if _is_archive(path):
        try:
            _, missing = find_files(path)
        except (tarfile.TarError, OSError, EOFError) as err:
            return f"archive {str(path)!r} cannot be read as a tar archive ({err})"
        if missing:
            return f"archive {str(path)!r} lacks {', '.join(f'{FOLDER}/{m}' for m in missing)}"
        return None
    _, missing = find_files(path)
    if missing:
        return f"folder {str(path)!r} lacks {', '.join(missing)}"
    return None


def _read_batch(raw: bytes, where: str) -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 (n, 3072), labels int64 (n,)) of one batch file's bytes; ``where`` names it in errors."""
    try:
        batch = _BatchUnpickler(io.BytesIO(raw), encoding="bytes").load()
    except Exception as err:  # a damaged or foreign pickle: any error, named with the file
        raise ValueError(f"CIFAR-10 batch {where} cannot be read: {err}") from err
    if not isinstance(batch, dict) or b"data" not in batch or b"labels" not in batch:
        keys = sorted(batch) if isinstance(batch, dict) else type(batch).__name__
        raise ValueError(f"CIFAR-10 batch {where} must be a dict with b'data' and b'labels', got {keys}")
    images, labels = batch[b"data"], np.asarray(batch[b"labels"])
    if not isinstance(images, np.ndarray) or images.dtype != np.uint8 or images.ndim != 2 or images.shape[1] != PIXELS:
        shape = getattr(images, "shape", None)
        raise ValueError(f"CIFAR-10 batch {where}: b'data' must be uint8 (n, {PIXELS}), got {type(images).__name__} "
                         f"{getattr(images, 'dtype', '')} of shape {shape}")  # fmt: skip
    if labels.ndim != 1 or len(labels) != len(images) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"CIFAR-10 batch {where}: b'labels' must be {len(images)} integers (one per image), "
                         f"got {labels.dtype} of shape {labels.shape}")  # fmt: skip
    if len(labels) and (labels.min() < 0 or labels.max() > 9):
        raise ValueError(f"CIFAR-10 batch {where}: labels must lie in 0..9, got {labels.min()}..{labels.max()}")
    return images, labels.astype(np.int64)


def _read_batches(path: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{file name: (images, labels)} of the six batches (``path`` already checked)."""
    if not _is_archive(path):
        files, _ = find_files(path)
        return {name: _read_batch(where.read_bytes(), repr(str(where))) for name, where in files.items()}
    wanted = {f"{FOLDER}/{name}": name for name in FILES}
    batches = {}
    with tarfile.open(path, "r|*") as tar:  # one pass through the stream, each batch read in memory
        for member in tar:
            name = wanted.get(member.name.removeprefix("./"))
            if name is not None and member.isfile() and name not in batches:
                batches[name] = _read_batch(tar.extractfile(member).read(), f"{member.name} of {str(path)!r}")
    return batches


def load(path: str | Path | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x uint8 (n, 3072), y int64 (n,), is_train bool (n,)): the training batches' rows first.

    A row of ``x`` is one image as channel, row, column (``x.reshape(n, 3, 32, 32)``).
    """
    problem = check_folder(path)
    if problem:
        raise ValueError(f"dataset cifar10: {problem}")
    batches = _read_batches(Path(path))
    train = [batches[name] for name in TRAIN_FILES]
    x = np.concatenate([b[0] for b in train] + [batches[TEST_FILE][0]])
    y = np.concatenate([b[1] for b in train] + [batches[TEST_FILE][1]])
    n_train = sum(len(b[1]) for b in train)
    return x, y, np.arange(len(y)) < n_train
