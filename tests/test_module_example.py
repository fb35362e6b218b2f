"""examples/own_network: a user's project importing infoplane as a Snakemake module, run for real.

It trains the user's own network (a factory in the project's package) on the user's CSV file,
through the module's rules, then runs a rule of its own on the experiment's MI table.
"""

import os
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch
import xarray as xr
from conftest import REPO, snakemake_cmd

EXAMPLE = REPO / "examples" / "own_network"


def _project(tmp_path):
    """The example copied elsewhere, its module pointing at this checkout (as a user's clone would)."""
    work = tmp_path / "project"
    shutil.copytree(EXAMPLE, work, ignore=shutil.ignore_patterns("results", ".snakemake", "__pycache__"))
    snakefile = work / "Snakefile"
    text = snakefile.read_text()
    assert '"../../Snakefile"' in text
    checkout = os.path.relpath(REPO / "Snakefile", work)  # relative, as linting asks
    snakefile.write_text(text.replace('"../../Snakefile"', f'"{checkout}"'))
    return work


def _snakemake(work, *args):
    return subprocess.run([*snakemake_cmd(), *args], cwd=work, capture_output=True, text=True)


def test_bad_factory_fails_before_any_job_naming_the_key(tmp_path):
    work = _project(tmp_path)
    cfg = work / "config" / "config.yaml"
    cfg.write_text(cfg.read_text().replace("mynets.encoders:build", "mynets.missing:build"))
    out = _snakemake(work, "-n")
    assert out.returncode != 0
    assert "experiments.mine.model.factory: cannot import module 'mynets.missing'" in out.stderr
    assert "Traceback" not in out.stderr


def test_the_example_lints_clean(tmp_path):
    out = _snakemake(_project(tmp_path), "--lint")
    assert out.returncode == 0 and "Congratulations" in out.stdout + out.stderr, out.stderr[-3000:]


@pytest.mark.slow
@pytest.mark.long  # over 40 s: CI runs it with `-m long`
def test_the_example_runs_end_to_end(tmp_path):
    work = _project(tmp_path)
    out = _snakemake(work, "--cores", "2")
    assert out.returncode == 0, out.stderr[-4000:]
    r = work / "results"
    # the module's rules ran under their prefixed names, then the project's own rule
    assert "infoplane_train" in out.stderr and "rule compression" in out.stderr
    assert (r / "figures/mine/infoplane.png").read_bytes()[:4] == b"\x89PNG"

    # the file dataset holds the CSV's features and labels
    csv = pd.read_csv(EXAMPLE / "data/mine.csv")
    ds = xr.open_zarr(r / "datasets/mine.zarr", consolidated=False)
    np.testing.assert_array_equal(ds["x"].values, csv.drop(columns="label").to_numpy(np.float32))
    np.testing.assert_array_equal(ds["y"].values, csv["label"].to_numpy())

    # the user's network, rebuilt from the project's code with the last recorded weights, gives the
    # activations the workflow extracted: the captured modules encoder.1 and encoder.3, then softmax
    run = r / "runs/mine/seed~0"
    weights = xr.open_zarr(run / "weights.zarr", consolidated=False)
    sys.path.insert(0, str(work))
    try:
        from mynets.encoders import build

        net = build(n_inputs=6, n_classes=3, width=8)
    finally:
        sys.path.remove(str(work))
        for name in [m for m in sys.modules if m.split(".")[0] == "mynets"]:
            del sys.modules[name]
    net.load_state_dict({k: torch.from_numpy(weights[f"net.{k}"].isel(epoch=-1).values) for k in net.state_dict()})
    acts = xr.open_zarr(run / "activations.zarr", consolidated=False)
    x = torch.as_tensor(ds["x"].values)
    with torch.no_grad():
        h1 = net.encoder[:2](x)
        expected = [h1, net.encoder[2:](h1), torch.softmax(net(x), dim=1)]
    for layer, want in enumerate(expected, start=1):
        np.testing.assert_allclose(acts[f"layer{layer}"].isel(epoch=-1).values, want.numpy(), rtol=1e-5, atol=1e-6)

    # the tidy MI table: binning of a deterministic layer on 256 distinct inputs, so
    # I(X;T) = H(T) <= log2(256) = 8 bits and I(T;Y) <= H(Y) (three near-balanced classes)
    mi = pd.read_csv(r / "experiments/mine/mi.csv")
    assert sorted(mi["layer"].unique()) == [1, 2, 3]
    assert set(mi["activation"]) == {"mynets.encoders:build"}  # the condition a factory network is named by
    p = np.bincount(csv["label"]) / len(csv)
    h_y = float(-(p * np.log2(p)).sum())
    assert mi.loc[mi["quantity"] == "I_XT", "mi_bits"].between(0, 8 + 1e-9).all()
    assert mi.loc[mi["quantity"] == "I_TY", "mi_bits"].between(0, h_y + 1e-9).all()
    compression = pd.read_csv(r / "compression.csv")
    assert list(compression["layer"]) == [1, 2, 3]
    assert (compression["compression_bits"] >= 0).all()
