"""MNIST from the four standard IDX files in a local folder (no download).

The folder holds ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``
and ``t10k-labels-idx1-ubyte``, each optionally gzipped (``.gz``); the ``train-images.idx3-ubyte``
spelling also works. Rows are the training files' images first, then the test files', in file order.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .idx import read_idx
from .splits import stratified_choice

FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


def _candidates(name: str) -> list[str]:
    dotted = name.replace("-idx", ".idx")
    return [name, f"{name}.gz", dotted, f"{dotted}.gz"]


def find_files(folder: str | Path) -> tuple[dict[str, Path], list[str]]:
    """({role: file} for the files found, [names of the files missing]) in ``folder``."""
    folder = Path(folder)
    found, missing = {}, []
    for role, name in FILES.items():
        hits = [folder / c for c in _candidates(name) if (folder / c).is_file()]
        if hits:
            found[role] = hits[0]
        else:
            missing.append(name)
    return found, missing


def check_folder(path: str | Path | None) -> str | None:
    """What is wrong with ``path`` as an MNIST folder, or None when it holds the four files."""
    if path is None:
        return "mnist needs path: a folder with the four MNIST IDX files"
    if not Path(path).is_dir():
        return f"folder {str(path)!r} does not exist"
    _, missing = find_files(path)
    if missing:
        return f"folder {str(path)!r} lacks {', '.join(missing)} (optionally .gz)"
    return None


def _read_pair(images_path: Path, labels_path: Path) -> tuple[np.ndarray, np.ndarray]:
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(
            f"MNIST image file {str(images_path)!r} must hold uint8 images (n, rows, cols), "
            f"got {images.dtype} of shape {images.shape}"
        )
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(
            f"MNIST label file {str(labels_path)!r} must hold integer labels (n,), "
            f"got {labels.dtype} of shape {labels.shape}"
        )
    if len(images) != len(labels):
        raise ValueError(
            f"MNIST files {str(images_path)!r} and {str(labels_path)!r} disagree: "
            f"{len(images)} images but {len(labels)} labels"
        )
    return images, labels.astype(np.int64)


def load(path: str | Path | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x uint8 (n, rows, cols), y int64 (n,), is_train bool (n,)): the training files' rows first."""
    problem = check_folder(path)
    if problem:
        raise ValueError(f"dataset mnist: {problem}")
    files, _ = find_files(path)
    x_train, y_train = _read_pair(files["train_images"], files["train_labels"])
    x_test, y_test = _read_pair(files["test_images"], files["test_labels"])
    if x_train.shape[1:] != x_test.shape[1:]:
        raise ValueError(
            f"MNIST image files {str(files['train_images'])!r} and {str(files['test_images'])!r} disagree: "
            f"images of {x_train.shape[1:]} and {x_test.shape[1:]} pixels"
        )
    is_train = np.r_[np.ones(len(y_train), bool), np.zeros(len(y_test), bool)]
    return np.concatenate([x_train, x_test]), np.concatenate([y_train, y_test]), is_train


def subsample_split(y: np.ndarray, is_train: np.ndarray, max_samples: int | None, seed: int) -> np.ndarray:
    """Sorted row indices of a stratified subsample of at most ``max_samples`` rows.

    The training and test rows are subsampled separately, each stratified by label, so that the
    train/test proportion is kept (the training share rounded to the nearest row).
    """
    n = len(y)
    if max_samples is None or max_samples >= n:
        return np.arange(n)
    if max_samples < 1:
        raise ValueError(f"max_samples must be at least 1, got {max_samples}")
    train, test = np.flatnonzero(is_train), np.flatnonzero(~is_train)
    n_train = int(round(max_samples * len(train) / n))
    rng = np.random.default_rng(seed)
    chosen_train = train[stratified_choice(y[train], n_train, rng)]
    chosen_test = test[stratified_choice(y[test], max_samples - n_train, rng)]
    return np.sort(np.concatenate([chosen_train, chosen_test]))
