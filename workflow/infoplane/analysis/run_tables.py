"""Estimation jobs: the MI tables of one run with one preset, or of every (run, preset) of a group in one process.

The rules ``estimate`` and ``estimate_group_*`` both call :func:`write_mi_tables`; a group stages each
finished table (:mod:`infoplane.io.staging`), so a job that fails on its 40th table keeps the 39
others for its rerun. The dataset is loaded once per job, each run's activations once for all its
presets, and a compressor of X once per preset.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from .. import __version__
from ..estimators import resolve_device
from ..io import load_store
from ..io.staging import Output, make_outputs, tree_digest
from .run_mi import run_mi_table


@dataclass
class TableToEstimate:
    """One MI table of an estimation job.

    run: ``{experiment}/{run}`` as logs and errors name it; estimator: the preset's name; preset: its
    settings (``method`` and the rest); activations: the run's activations store; table: the output
    CSV; x_compressor: the saved compressor of X for a preset with ``x_compressor``, else None;
    staged: where a group job writes the table first (None: straight into ``table``).
    """

    run: str
    estimator: str
    preset: dict
    activations: str | Path
    table: str | Path
    x_compressor: str | Path | None = None
    staged: str | Path | None = None

    @property
    def name(self) -> str:
        return f"{self.run} with {self.estimator}"


def preset_table(
    activations: xr.Dataset,
    dataset: xr.Dataset,
    preset: dict,
    *,
    device: str = "auto",
    run: str = "",
    on_nonfinite: str = "error",
    log: logging.Logger | None = None,
    compressor=None,
) -> pd.DataFrame:
    """The MI table of one run with one estimator preset (``method`` and its parameters).

    Preset keys that are not the method's: ``rows`` (all, train or test: X uniform over those rows of
    the dataset) and ``x_compressor`` (X as the codes of ``compressor``, a loaded compressor fitted once).
    """
    log = log or logging.getLogger("infoplane")
    preset = dict(preset)
    method = preset.pop("method")
    rows = preset.pop("rows", "all")
    if rows != "all":
        keep = np.flatnonzero(dataset["is_train"].values == (rows == "train"))
        dataset, activations = dataset.isel(sample=keep), activations.isel(sample=keep)
        log.info("estimating on the %d %s rows", len(keep), rows)
    inputs = None
    if preset.pop("x_compressor", None) is not None:
        if compressor is None:
            raise ValueError(f"preset of {run!r} compresses X (x_compressor) but no fitted compressor was given")
        inputs = compressor.encode(dataset["x"].values.reshape(dataset.sizes["sample"], -1)).numpy()
    return run_mi_table(
        activations, dataset, method, preset, device=device, run=run, on_nonfinite=on_nonfinite, log=log, inputs=inputs
    )


def write_mi_tables(
    dataset_path: str | Path,
    tables: list[TableToEstimate],
    log: logging.Logger,
    *,
    device: str = "auto",
    on_nonfinite: str = "error",
    stage_root: str | Path | None = None,
) -> dict[str, list[str]]:
    """Write every table of ``tables`` (all on one dataset store) as CSV; returns {"reused": ..., "built": ...}.

    A staged table is reused when its fingerprint matches: the preset, ``on_nonfinite``, the device
    kind, the library version, and the content digests (:func:`infoplane.io.staging.tree_digest`) of
    the run's activations store, of the dataset store and of the compressor of X.
    """
    dataset = load_store(dataset_path, "dataset store")
    device_kind = resolve_device(device).type
    digests: dict[str, str] = {}
    compressors: dict[str, object] = {}
    loaded: dict[str, xr.Dataset] = {}  # the activations of the run being estimated (runs come in order)

    def digest(path) -> str | None:
        if path is not None and str(path) not in digests:
            digests[str(path)] = tree_digest(path)
        return None if path is None else digests[str(path)]

    def fingerprint(t: TableToEstimate):
        return lambda: {
            "what": "mi_table",
            "preset": t.preset,
            "on_nonfinite": on_nonfinite,
            "device": device_kind,
            "activations": digest(t.activations),
            "dataset": digest(dataset_path),
            "x_compressor": digest(t.x_compressor),
            "infoplane": __version__,
        }

    def compressor(path):
        if path is None:
            return None
        if str(path) not in compressors:
            from ..compressors import load_compressor

            c = compressors[str(path)] = load_compressor(path)
            log.info("X compressed by %s (%s): %s", path, c.report["kind"],
                     {k: v for k, v in c.report.items() if k != "history"})  # fmt: skip
            if not c.report["converged"]:
                log.warning("the compressor of X did not converge: I(X;T) is estimated through a poor reconstruction")
        return compressors[str(path)]

    def activations(path) -> xr.Dataset:
        if str(path) not in loaded:
            loaded.clear()  # one run's activations in memory at a time
            loaded[str(path)] = load_store(path, "activations store")
        return loaded[str(path)]

    by_name = {t.name: t for t in tables}

    def build(out: Output, path: Path) -> None:
        t = by_name[out.name]
        table = preset_table(
            activations(t.activations), dataset, t.preset, device=device, run=t.run,
            on_nonfinite=on_nonfinite, log=log, compressor=compressor(t.x_compressor),
        )  # fmt: skip
        table.to_csv(path, index=False)
        log.info("%s: %d rows in %.2f s", t.name, len(table), table["seconds"].sum())

    outputs = [
        Output(t.name, Path(t.table), None if t.staged is None else Path(t.staged), fingerprint(t)) for t in tables
    ]
    return make_outputs(outputs, build, log, stage_root)
