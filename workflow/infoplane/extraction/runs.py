"""Extraction jobs: the activations store of one run, or of every run of a group in one process.

The rules ``extract`` (one run) and ``extract_group_*`` (a training group) both call
:func:`extract_runs`; a group stages each finished store (:mod:`infoplane.io.staging`), so a job
that fails on one run keeps the others for its rerun.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from pathlib import Path

import torch
import xarray as xr
from tqdm import tqdm

from .. import __version__
from ..io import load_store
from ..io.staging import Output, make_outputs, tree_digest
from ..models import model_for_dataset
from .replay import activations, write_activations


@dataclass
class RunToExtract:
    """One run of an extraction job: its name, run config, weights store and activations store (the output).

    staged: where a group job builds the store first (None: straight into ``activations``).
    """

    run: str
    run_config: dict
    weights: str | Path
    activations: str | Path
    staged: str | Path | None = None


def extract_run(dataset: xr.Dataset, weights_path: str | Path, run_config: dict, out_path: str | Path) -> xr.Dataset:
    """Replay the weights store of one run on ``dataset`` (the dataset contract) and write its activations store."""
    weights = load_store(weights_path, "weights store")
    x = torch.as_tensor(dataset["x"].values, dtype=torch.float32)
    model = model_for_dataset(run_config["model"], dataset)
    with tqdm(total=weights.sizes["epoch"], file=sys.stderr, mininterval=5, desc="epochs") as bar:
        acts = activations(model, weights, x, progress=bar)
    write_activations(acts, out_path)
    return acts


def extract_runs(
    dataset_path: str | Path, runs: list[RunToExtract], log: logging.Logger, stage_root: str | Path | None = None
) -> dict[str, list[str]]:
    """The activations stores of ``runs`` (all on one dataset store), each reused from staging when its
    fingerprint matches: the run config, the content digests of its weights store and of the dataset
    store, and the library version. Returns {"reused": runs, "built": runs}."""
    dataset = load_store(dataset_path, "dataset store")
    digests: dict[str, str] = {}

    def digest(path) -> str:
        if str(path) not in digests:
            digests[str(path)] = tree_digest(path)
        return digests[str(path)]

    by_name = {r.run: r for r in runs}

    def fingerprint(r: RunToExtract):
        return lambda: {
            "what": "activations",
            "run_config": r.run_config,
            "weights": digest(r.weights),
            "dataset": digest(dataset_path),
            "infoplane": __version__,
        }

    def build(out: Output, path: Path) -> None:
        acts = extract_run(dataset, by_name[out.name].weights, by_name[out.name].run_config, path)
        log.info("%s: wrote %d epochs x %d layers", out.name, acts.sizes["epoch"], len(acts.data_vars))

    outputs = [
        Output(r.run, Path(r.activations), None if r.staged is None else Path(r.staged), fingerprint(r)) for r in runs
    ]
    return make_outputs(outputs, build, log, stage_root)
