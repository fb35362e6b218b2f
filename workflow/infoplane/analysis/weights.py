"""Distance of the weights from their initialisation against the number of updates (Hoffer et al. 2017).

Hoffer, Hubara & Soudry (2017) find that ||w_t - w_0|| grows like log(t) in the number of updates t
during the first learning-rate phase ("ultra-slow diffusion"), not like sqrt(t) as a random walk
on a flat landscape would. From a run's weights store (the weights.zarr contract; parameters only,
not buffers such as batch norm's running statistics) this module gives

- :func:`distance_from_init`: ||w_e - w_0|| per layer and in total at every captured epoch e;
- :func:`fit_growth`: least-squares fits d = a + b f(t) with f = log t, sqrt t and t, and their R^2;
- :func:`diffusion_tables`: both for every run of an experiment, with updates t = e x updates per epoch.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import xarray as xr

from ..io.parameter_names import parameter_variables

GROWTH = {"log": np.log, "sqrt": np.sqrt, "linear": lambda t: t}
_LAYER = re.compile(r"^layer(\d+)_")  # layers.{i}.* of the registered models
_NORM = re.compile(r"^norms\.(\d+)\.")  # the batch norm after hidden layer i


def layer_of(variable: str) -> str:
    """The layer a weights-store variable belongs to, numbered from 1 as in the MI tables.

    ``layer{i}_*`` (the i-th weighted layer, from 0) and ``norms.{i}.*`` (its batch norm) -> ``layer{i+1}``;
    any other name (a user's module) -> its first dotted component.
    """
    m = _LAYER.match(variable) or _NORM.match(variable)
    return f"layer{int(m.group(1)) + 1}" if m else variable.split(".")[0]


def distance_from_init(weights: xr.Dataset) -> pd.DataFrame:
    """||w_e - w_0|| (Euclidean, over every parameter of the layer) per captured epoch.

    weights: a weights store whose first captured epoch is the initialisation. Returns a long table
    with columns epoch, layer (``layer{l}`` and ``total``, all parameters together), distance.
    """
    epochs = np.asarray(weights["epoch"].values, dtype=np.int64)
    squared: dict[str, np.ndarray] = {}
    for var in parameter_variables(weights):
        w = np.asarray(weights[var].values, dtype=np.float64).reshape(len(epochs), -1)
        sq = ((w - w[0]) ** 2).sum(axis=1)
        squared[layer_of(var)] = squared.get(layer_of(var), 0.0) + sq
    if not squared:
        raise ValueError("the weights store has no parameter variables")
    squared = dict(sorted(squared.items(), key=lambda kv: _layer_key(kv[0])))
    squared["total"] = sum(squared.values())
    frames = [pd.DataFrame({"epoch": epochs, "layer": name, "distance": np.sqrt(sq)}) for name, sq in squared.items()]
    return pd.concat(frames, ignore_index=True)


def _layer_key(name: str):
    m = re.fullmatch(r"layer(\d+)", name)
    return (0, int(m.group(1)), "") if m else (1, 0, name)


def fit_growth(updates, distance) -> dict[str, float]:
    """Least-squares fits of distance = a + b f(updates) for f in log, sqrt, linear.

    updates: (n,) positive update counts; distance: (n,). Returns ``r2_{f}``, ``slope_{f}`` and
    ``intercept_{f}`` for each f, and ``n_points``; NaN fits below 3 points. R^2 = 1 - SS_res / SS_tot
    (1 when the distance is constant and fitted exactly).
    """
    t, d = np.asarray(updates, dtype=float), np.asarray(distance, dtype=float)
    if np.any(t <= 0):
        raise ValueError("updates must be positive (log of the update count)")
    out: dict[str, float] = {"n_points": int(len(t))}
    for name, f in GROWTH.items():
        if len(t) < 3:
            out |= {f"r2_{name}": np.nan, f"slope_{name}": np.nan, f"intercept_{name}": np.nan}
            continue
        design = np.column_stack([np.ones_like(t), f(t)])
        (a, b), *_ = np.linalg.lstsq(design, d, rcond=None)
        ss_res = float(((d - design @ np.array([a, b])) ** 2).sum())
        ss_tot = float(((d - d.mean()) ** 2).sum())
        r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else (1.0 if ss_res == 0 else 0.0)
        out |= {f"r2_{name}": r2, f"slope_{name}": float(b), f"intercept_{name}": float(a)}
    return out


def first_phase(epochs, drop_epochs) -> np.ndarray:
    """Mask of captured epochs in the first learning-rate phase, after at least one update: 1 <= e <= first drop.

    The state after e epochs was reached at the initial rate while e <= the first drop epoch.
    """
    epochs = np.asarray(epochs)
    end = min(drop_epochs) if len(drop_epochs) else np.inf
    return (epochs >= 1) & (epochs <= end)


def diffusion_tables(runs: dict[str, dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The distance and fit tables of an experiment.

    runs: {run: {"weights": xr.Dataset, "updates_per_epoch": int, "drop_epochs": list[int], "labels": dict}};
    labels (experiment, run, sweep values, batch size ...) lead each row.
    Returns (distance, fits): distance has labels, epoch, updates, layer, distance; fits one row per
    run and layer with labels, layer, first_drop_epoch, the first and last update count captured in
    the first learning-rate phase (phase_updates_min, _max), the fits of :func:`fit_growth` over that
    phase, and final_distance (at the last captured epoch).
    """
    distance_frames, fit_rows = [], []
    for info in runs.values():
        dist = distance_from_init(info["weights"])
        dist.insert(1, "updates", dist["epoch"] * int(info["updates_per_epoch"]))
        labels = info["labels"]
        for i, (key, value) in enumerate(labels.items()):
            dist.insert(i, key, value)
        distance_frames.append(dist)
        drops = list(info["drop_epochs"])
        for layer, group in dist.groupby("layer", sort=False):
            phase = group[first_phase(group["epoch"], drops)]
            fit_rows.append(
                labels
                | {"layer": layer, "first_drop_epoch": min(drops) if drops else np.nan}
                | {"phase_updates_min": phase["updates"].min(), "phase_updates_max": phase["updates"].max()}
                | fit_growth(phase["updates"], phase["distance"])
                | {"final_distance": float(group.sort_values("epoch")["distance"].iloc[-1])}
            )
    return pd.concat(distance_frames, ignore_index=True), pd.DataFrame(fit_rows)
