"""Benchmark: the binning information plane of one run, vectorised torch against a per-epoch NumPy loop.

The reference loop follows the original IDNNs code: for every epoch and layer, ``np.digitize``
the activations, find the distinct rows with ``np.unique`` on a void view, and compute H(T) and
H(T|Y) = sum_y p(y) H(T | Y=y) from the counts. Both give identical numbers (tested); only the
time differs.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import torch

from ..estimators.binning import binned_plane_bits


def _entropy_bits(rows: np.ndarray) -> float:
    view = np.ascontiguousarray(rows).view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1])))
    _, counts = np.unique(view, return_counts=True)
    p = counts / counts.sum()
    return float(-(p * np.log2(p)).sum())


def numpy_loop_plane_bits(
    layers: list[np.ndarray], labels: np.ndarray, bins: int = 30, low: float = -1.0, high: float = 1.0
) -> np.ndarray:
    """I(X;T), I(T;Y) per (epoch, layer) with fixed bins, one epoch and layer at a time.

    layers: per layer an array (E, n, d). Returns (E, L, 2) in bits.
    """
    edges = np.linspace(low, high, bins + 1)[1:-1]  # interior edges: bins equal-width bins, clipped ends
    classes, y = np.unique(labels, return_inverse=True)
    p_y = np.bincount(y) / len(y)
    out = np.zeros((layers[0].shape[0], len(layers), 2))
    for e in range(layers[0].shape[0]):
        for l, acts in enumerate(layers):
            digitized = np.digitize(acts[e], edges)
            h_t = _entropy_bits(digitized)
            h_t_given_y = sum(p_y[c] * _entropy_bits(digitized[y == c]) for c in range(len(classes)))
            out[e, l] = h_t, h_t - h_t_given_y
    return out


def synthetic_run(n_epochs: int = 274, widths=(10, 7, 5, 4, 3, 2), n_samples: int = 4096, seed: int = 0):
    """Activations shaped like one original run: tanh layers whose weights grow over epochs."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 2, size=(n_samples, 12)).astype(np.float32)
    labels = (x.sum(1) > 6).astype(np.int64)
    scale = np.linspace(0.5, 4.0, n_epochs)[:, None, None]
    layers, h = [], np.broadcast_to(x, (n_epochs, *x.shape))
    for w in widths:
        weight = rng.standard_normal((h.shape[-1], w)).astype(np.float32) / np.sqrt(h.shape[-1])
        h = np.tanh(scale * (h @ weight)).astype(np.float32)
        layers.append(h)
    return layers, labels


def run(n_epochs: int = 274, repeats: int = 3, bins: int = 30) -> pd.DataFrame:
    """Time both implementations on one run of the original size; returns a table of seconds."""
    layers, labels = synthetic_run(n_epochs)
    rows = []
    torch_layers = [torch.from_numpy(a) for a in layers]
    y = torch.from_numpy(labels)

    def vectorised():
        return [binned_plane_bits(t, y, bins=bins, range="fixed") for t in torch_layers]

    for name, fn in (
        ("torch_vectorised", vectorised),
        ("numpy_loop", lambda: numpy_loop_plane_bits(layers, labels, bins)),
    ):
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        rows.append(
            {
                "implementation": name,
                "epochs": n_epochs,
                "layers": len(layers),
                "samples": len(labels),
                "quantities": 2,
                "seconds_median": float(np.median(times)),
                "seconds_min": float(np.min(times)),
                "threads": torch.get_num_threads(),
                "device": "cpu",
            }
        )
    table = pd.DataFrame(rows)
    table["speedup_vs_numpy"] = table["seconds_median"].iloc[1] / table["seconds_median"]
    return table
