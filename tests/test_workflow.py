"""The workflow as a user runs it: lint, dry runs, clear config errors, and a tiny real run of every stage."""

import math
import subprocess

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from conftest import REPO, copy_repo, snakemake_cmd

TINY = ".test/config.yaml"


def snakemake(*args, cwd=REPO, check=True):
    result = subprocess.run([*snakemake_cmd(), *args], cwd=cwd, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def test_lint_is_clean():
    out = snakemake("--lint")
    assert "Congratulations" in out.stdout + out.stderr


def test_dry_run_lists_the_default_dag():
    out = snakemake("-n", "--forceall")
    text = out.stdout + out.stderr
    for rule in ("dataset", "train", "extract", "estimate", "aggregate", "claims", "figure"):
        assert f"\n{rule} " in text, rule


def test_bad_config_fails_before_any_job_with_one_message(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text((REPO / TINY).read_text().replace("epochs: 40", "epochs: -3").replace("n_points", "npoints"))
    out = snakemake("-n", "--configfile", str(bad), check=False)
    assert out.returncode != 0
    assert "training.epochs: -3 is less than the minimum of 1" in out.stderr
    assert "unknown key 'npoints'" in out.stderr
    assert "Traceback" not in out.stderr and 'File "' not in out.stderr


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """The tiny config run for real through every stage, in a clean copy of the repository."""
    work = copy_repo(tmp_path_factory.mktemp("tiny"))
    snakemake("--cores", "2", "--configfile", TINY, cwd=work)
    return work


@pytest.mark.slow
def test_tiny_run_makes_every_artifact(tiny_run):
    r = tiny_run / "results"
    assert xr.open_zarr(r / "datasets/tishby12.zarr", consolidated=False).sizes["sample"] == 4096
    run = r / "runs/tishby2017/activation~tanh/seed~0"
    acts = xr.open_zarr(run / "activations.zarr", consolidated=False)
    assert set(acts.data_vars) == {f"layer{l}" for l in range(1, 7)}
    assert acts["layer1"].dims == ("epoch", "sample", "unit_layer1")
    # chunked by whole epochs, about 1 MiB a chunk
    n_units = acts.sizes["unit_layer1"]
    assert acts["layer1"].encoding["chunks"] == (
        min(acts.sizes["epoch"], (1 << 20) // (4096 * n_units * 4)),
        4096,
        n_units,
    )
    weights = xr.open_zarr(run / "weights.zarr", consolidated=False)
    assert np.array_equal(weights["epoch"].values, acts["epoch"].values)
    for fig in ("infoplane", "gradients", "training"):
        assert (r / f"figures/tishby2017/{fig}.png").stat().st_size > 10_000
    assert not (r / "checkpoints/tishby2017/activation~tanh/seed~0").exists()  # published, then dropped


@pytest.mark.slow
def test_tiny_run_mi_table_contract_and_bounds(tiny_run):
    mi = pd.read_csv(tiny_run / "results/experiments/tishby2017/mi.csv")
    assert list(mi.columns[:10]) == [
        "experiment",
        "run",
        "activation",
        "seed",
        "estimator",
        "epoch",
        "layer",
        "quantity",
        "mi_bits",
        "ci_low_bits",
    ]
    assert {"ci_high_bits", "n_samples"} <= set(mi.columns)
    assert set(mi["layer"]) == set(range(1, 7)) and set(mi["quantity"]) == {"I_XT", "I_TY"}
    assert set(mi["activation"]) == {"tanh", "relu"}
    # Known bounds: I(X;T) <= H(X) = 12 bits; I(T;Y) <= I(X;Y) = H(Y) (data processing), both >= 0.
    h_y = -sum(p * math.log2(p) for p in (0.5, 0.5))
    xt, ty = mi[mi["quantity"] == "I_XT"]["mi_bits"], mi[mi["quantity"] == "I_TY"]["mi_bits"]
    assert xt.between(0, 12 + 1e-9).all() and ty.between(-1e-9, h_y + 1e-9).all()
    # For a deterministic T, I(T;Y) <= H(T) = I(X;T) in every layer and epoch.
    wide = mi.pivot_table(index=["run", "epoch", "layer"], columns="quantity", values="mi_bits")
    assert (wide["I_TY"] <= wide["I_XT"] + 1e-9).all()
    claims = pd.read_csv(tiny_run / "results/experiments/tishby2017/claims.csv")
    assert list(claims.columns[:5]) == ["claim", "metric", "expected", "observed", "holds"]
    assert len(claims) == 4


@pytest.mark.slow
def test_tiny_run_second_experiment_with_two_sweep_keys_and_kde(tiny_run):
    r = tiny_run / "results"
    mi = pd.read_csv(r / "experiments/chelombiev2019/mi.csv")
    assert list(mi.columns[:6]) == ["experiment", "run", "activation", "seed", "l2", "estimator"]
    assert set(mi["run"]) == {f"activation~{a}/l2~{l2}" for a in ("tanh", "relu") for l2 in ("0.0", "0.015")}
    # The kernel upper bound of I(X;T) lies in [0, log2(n) = 12 bits]. I(T;Y) is a difference of two
    # such bounds averaged over 512 of the 4096 points: an estimate, not a bound, whose Monte Carlo
    # error on these runs is below 0.08 bits (measured against all points), so it lies within
    # 0.1 bits of [0, H(Y) = 1 bit].
    xt, ty = mi[mi["quantity"] == "I_XT"]["mi_bits"], mi[mi["quantity"] == "I_TY"]["mi_bits"]
    assert xt.between(0, 12 + 1e-9).all() and ty.between(-0.1, 1.1).all()
    claims = pd.read_csv(r / "experiments/chelombiev2019/claims.csv")
    assert claims["n_runs"].max() == 4 and claims["holds"].dtype == bool
    assert "L2 regularisation increases compression" in set(claims["claim"])
    for fig in ("infoplane", "compression", "generalisation"):
        assert (r / f"figures/chelombiev2019/{fig}.png").stat().st_size > 10_000


@pytest.mark.slow
def test_tiny_run_writes_the_reproduction_table_from_its_claims_and_job_benchmarks(tiny_run):
    r = tiny_run / "results"
    table = pd.read_csv(r / "reproductions.csv").set_index("experiment")
    for name in table.index:
        claims = r / f"experiments/{name}/claims.csv"
        if claims.exists():
            c = pd.read_csv(claims)
            assert table.loc[name, "claims_checked"] == c["holds"].notna().sum(), name
            assert table.loc[name, "claims_held"] == (c["holds"].astype(str).str.lower() == "true").sum(), name
    tishby = table.loc["tishby2017"]
    runs = len(list((r / "runs/tishby2017").glob("*/seed~*")))
    # a train, an extract and an estimate job per run (or per group), the aggregate, the claims and each figure
    assert tishby["runs"] == runs and tishby["jobs"] >= 5 and tishby["cpu_seconds"] > 0 and tishby["max_rss_mb"] > 50
    bench = list((r / "benchmarks").glob("*/tishby2017/**/*.tsv")) + list((r / "benchmarks").glob("*/tishby2017.tsv"))
    assert len(bench) == tishby["jobs"]
    assert (r / "reproductions.md").read_text().startswith("# Reproductions")


@pytest.mark.slow
def test_tiny_run_is_complete_and_reports(tiny_run):
    out = snakemake("-n", "--configfile", TINY, cwd=tiny_run)
    assert "Nothing to be done" in out.stdout + out.stderr
    snakemake("--configfile", TINY, "--report", "results/report.html", cwd=tiny_run)
    html = (tiny_run / "results/report.html").read_text(errors="ignore")
    assert "infoplane" in html and len(html) > 50_000


@pytest.mark.slow
def test_same_config_and_seed_give_identical_tables(tiny_run, tmp_path):
    # the tishby2017 tables again from nothing in another copy (only that experiment's DAG: the tables compared)
    again = copy_repo(tmp_path / "again")
    tables = ("mi.csv", "claims.csv", "metrics.csv")
    snakemake("--cores", "2", *[f"results/experiments/tishby2017/{t}" for t in tables], "--configfile", TINY, cwd=again)
    for table in tables:
        a = (tiny_run / f"results/experiments/tishby2017/{table}").read_bytes()
        b = (again / f"results/experiments/tishby2017/{table}").read_bytes()
        assert a == b, table


@pytest.mark.slow
def test_tiny_run_stochastic_encoders_generalisation_table_and_claims(tiny_run):
    r = tiny_run / "results"
    run = r / "runs/kawaguchi2023_toy/dataset~blobs_1/weight_decay~0.1"
    acts = xr.open_zarr(run / "activations.zarr", consolidated=False)
    assert {"loc_layer1", "scale_layer4", "layer5"} <= set(acts.data_vars) and "loc_layer5" not in acts
    mi = pd.read_csv(r / "experiments/kawaguchi2023_toy/mi.csv")
    assert set(mi["quantity"]) == {"I_XT", "I_TY", "I_XT_given_Y"} and set(mi["layer"]) == {1, 2, 3, 4}
    assert set(mi["n_samples"]) == {50}  # X uniform over the 50 training points of each data draw
    # Known bounds for X uniform over 50 points, 10 per class: I(X;Z) <= log2 50, I(X;Z|Y) <= log2 10,
    # I(Z;Y) <= H(Y) = log2 5; each a Monte Carlo mean, so allowed 0.05 bits of noise below zero.
    for quantity, bound in (("I_XT", math.log2(50)), ("I_XT_given_Y", math.log2(10)), ("I_TY", math.log2(5))):
        assert mi[mi["quantity"] == quantity]["mi_bits"].between(-0.05, bound + 1e-9).all(), quantity
    table = pd.read_csv(r / "experiments/kawaguchi2023_toy/generalisation.csv")
    assert len(table) == 4 and set(table["dataset"]) == {"blobs_0", "blobs_1"}
    for column in ("loss_gap", "error_gap", "ixz_given_y_min_bits", "ixz_bits_layer4", "n_parameters"):
        assert table[column].notna().all(), column
    claims = pd.read_csv(r / "experiments/kawaguchi2023_toy/claims.csv")
    assert len(claims) == 5 and claims["n_runs"].max() == 4 and claims["holds"].dtype == bool
    assert (r / "figures/kawaguchi2023_toy/ib_generalisation.png").stat().st_size > 10_000


@pytest.mark.slow
def test_tiny_run_hoffer2017_diffusion_claims_and_figures(tiny_run):
    r = tiny_run / "results"
    run = r / "runs/hoffer2017/condition~large_ghost/seed~0"
    weights = xr.open_zarr(run / "weights.zarr", consolidated=False)
    assert weights["norms.0.running_mean"].attrs["kind"] == "buffer"  # batch norm's statistics, for replay
    assert not (r / "runs/hoffer2017/condition~small/seed~0/activations.zarr").exists()  # no MI: no extraction
    assert pd.read_csv(r / "experiments/hoffer2017/mi.csv").empty
    fits = pd.read_csv(r / "experiments/hoffer2017/diffusion.csv")
    assert set(fits["layer"]) == {"layer1", "layer2", "layer3", "total"} and len(fits) == 12
    regime = fits[(fits["condition"] == "large_regime") & (fits["layer"] == "total")].iloc[0]
    assert regime["epochs"] == 20 and regime["first_drop_epoch"] == 10  # 4 epochs and the drop at 2, x 50/10
    distance = pd.read_csv(r / "experiments/hoffer2017/distance.csv")
    assert (distance.loc[distance["epoch"] == 0, "distance"] == 0).all()
    claims = pd.read_csv(r / "experiments/hoffer2017/claims.csv")
    assert len(claims) == 6 and claims["holds"].dtype == bool
    for fig in ("diffusion", "regime_accuracy"):
        assert (r / f"figures/hoffer2017/{fig}.png").stat().st_size > 10_000


@pytest.mark.slow
def test_tiny_run_noisy_conv_with_compressed_estimates(tiny_run):
    r = tiny_run / "results"
    run = r / "runs/butakov2024/seed~0"
    acts = xr.open_zarr(run / "activations.zarr", consolidated=False)
    # 8x8 digits: conv blocks 4 x 4x4 and 8 x 2x2 (flattened), dense 8, softmax 10
    assert [acts.sizes[f"unit_layer{l}"] for l in range(1, 5)] == [64, 32, 8, 10]
    # X's autoencoder, fitted once and shared by the two presets of the same spec (named by the first of them)
    assert sorted(p.name for p in (r / "compressors/digits_small").glob("*.pt")) == ["x_for_auto_ae2x.pt"]
    mi = pd.read_csv(r / "experiments/butakov2024/mi.csv")
    assert set(mi["epoch"]) == {0, 1, 2, 3} and set(mi["layer"]) == {1, 2, 3, 4}
    assert set(mi["n_samples"]) == {240}  # rows: train, 80% of the 300 digits
    assert mi[["mi_bits", "ci_low_bits", "ci_high_bits"]].notna().all().all()
    assert set(mi["estimator"]) == {"auto_ae2x", "wkl_ae2x_pca2"}  # the planes from auto beside the paper's pipeline
    auto = mi[mi["estimator"] == "auto_ae2x"]
    # I(L;Y) is at most H(Y) <= log2(10) bits (plus the interval's slack), I(X;L) at least 0 within it
    assert (auto.loc[auto["quantity"] == "I_TY", "mi_bits"] < np.log2(10) + 0.3).all()
    assert (auto["ci_high_bits"] >= 0).all() and (auto["ci_low_bits"] <= auto["mi_bits"] + 1e-9).all()
    claims = pd.read_csv(r / "experiments/butakov2024/claims.csv")
    assert len(claims) == 5 and claims["holds"].dtype == bool  # 3 hidden layers, timing, fitting
    for fig in ("infoplane", "mi_epochs"):
        assert (r / f"figures/butakov2024/{fig}.png").stat().st_size > 10_000
