"""Train/test splits as a boolean mask over samples, and stratified subsamples."""

from __future__ import annotations

import numpy as np

SPLITS = ("original", "random")


def train_mask(
    n_samples: int, train_fraction: float, split: str, seed: int, labels: np.ndarray | None = None
) -> np.ndarray:
    """Boolean (n_samples,) mask of training rows.

    ``original``: the first ``round(train_fraction * n)`` rows in their given order (IDNNs trains
    on the first 80% of patterns in counting order). ``random``: a seeded random subset of that size;
    with ``labels`` it is stratified (each class trains on its share of the rows, to within one).
    """
    if not 0 < train_fraction <= 1:
        raise ValueError(f"train_fraction must be in (0, 1], got {train_fraction}")
    n_train = int(round(train_fraction * n_samples))
    mask = np.zeros(n_samples, dtype=bool)
    if split == "original":
        mask[:n_train] = True
    elif split == "random":
        rng = np.random.default_rng(seed)
        if labels is None:
            mask[rng.choice(n_samples, size=n_train, replace=False)] = True
        else:
            labels = np.asarray(labels)
            if labels.shape != (n_samples,):
                raise ValueError(f"labels must have shape ({n_samples},), got {labels.shape}")
            mask[stratified_choice(labels, n_train, rng)] = True
    else:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    return mask


def stratified_counts(class_counts: np.ndarray, n: int) -> np.ndarray:
    """How many of each class a stratified sample of ``n`` takes: proportional, largest remainders rounded up."""
    class_counts = np.asarray(class_counts, dtype=np.int64)
    total = int(class_counts.sum())
    if not 0 <= n <= total:
        raise ValueError(f"cannot take {n} of {total} samples")
    quota = class_counts * n / total if total else np.zeros(len(class_counts))
    take = np.floor(quota).astype(np.int64)
    short = n - int(take.sum())
    # ties go to the class listed first (stable sort), so the counts do not depend on the seed
    take[np.argsort(-(quota - take), kind="stable")[:short]] += 1
    return take


def stratified_choice(labels: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Sorted indices of ``n`` rows drawn at random within each class, in proportion to the class sizes."""
    classes, inverse, counts = np.unique(np.asarray(labels), return_inverse=True, return_counts=True)
    take = stratified_counts(counts, n)
    chosen = [rng.choice(np.flatnonzero(inverse == c), size=k, replace=False) for c, k in enumerate(take)]
    return np.sort(np.concatenate([np.asarray(c, dtype=np.int64) for c in chosen] or [np.zeros(0, np.int64)]))


def stratified_subsample(labels: np.ndarray, max_samples: int | None, seed: int) -> np.ndarray:
    """Sorted indices of a seeded stratified subsample of at most ``max_samples`` rows (all rows for None)."""
    n = len(labels)
    if max_samples is None or max_samples >= n:
        return np.arange(n)
    if max_samples < 1:
        raise ValueError(f"max_samples must be at least 1, got {max_samples}")
    return stratified_choice(labels, max_samples, np.random.default_rng(seed))
