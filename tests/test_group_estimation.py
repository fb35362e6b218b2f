"""Group extraction and estimation: the runs of a training group are extracted in one job and estimated in
one job, with the same stores and tables as one job per run; a failed group job keeps what it finished
(staged under results/checkpoints/staged with a fingerprint) and its rerun reuses it."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import REPO, copy_repo, snakemake_cmd
from infoplane.extraction import write_activations
from infoplane.io import load_store
from infoplane.io.staging import FINGERPRINT_SUFFIX, Output, OutputsFailed, make_outputs, tree_digest

LOG = logging.getLogger("test")

# ---------------------------------------------------------------------------------------------
# The staging of many outputs (infoplane.io.staging), without Snakemake
# ---------------------------------------------------------------------------------------------


def _outputs(root: Path, names, fingerprints=None):
    fingerprints = fingerprints or {}
    return [
        Output(
            n,
            root / "out" / n / "t.csv",
            root / "stage" / "staged" / n / "t.csv",
            lambda n=n: {"what": n, "v": fingerprints.get(n, 1)},
        )  # fmt: skip
        for n in names
    ]


def test_outputs_are_published_together_and_staging_is_emptied(tmp_path):
    made = []

    def build(out, path):
        made.append(out.name)
        path.write_text(out.name)

    done = make_outputs(_outputs(tmp_path, ["a", "b"]), build, LOG, tmp_path / "stage")
    assert done == {"reused": [], "built": ["a", "b"]} and made == ["a", "b"]
    assert (tmp_path / "out/a/t.csv").read_text() == "a" and (tmp_path / "out/b/t.csv").read_text() == "b"
    assert list((tmp_path / "stage").iterdir()) == []  # published: nothing left behind but the root


def test_a_failure_keeps_the_finished_outputs_staged_and_the_rerun_reuses_them(tmp_path, caplog):
    def failing(out, path):
        path.write_text(f"{out.name} half")  # a half-written output: never published, never reused
        if out.name == "b":
            raise ValueError("b is bad")
        path.write_text(out.name)

    with pytest.raises(OutputsFailed, match=r"1 of 3 outputs failed \(b\).*First error: ValueError: b is bad"):
        make_outputs(_outputs(tmp_path, ["a", "b", "c"]), failing, LOG, tmp_path / "stage")
    stage = tmp_path / "stage/staged"
    assert not (tmp_path / "out").exists()  # nothing published
    assert (stage / "a/t.csv").read_text() == "a" and (stage / "c/t.csv").read_text() == "c"
    assert not (stage / "b/t.csv").exists()
    assert json.loads((stage / f"a/t.csv{FINGERPRINT_SUFFIX}").read_text()) == {"what": "a", "v": 1}

    made = []

    def build(out, path):
        made.append(out.name)
        path.write_text(f"{out.name} again")

    # c's inputs changed since (another fingerprint): rebuilt; a's did not: reused
    with caplog.at_level(logging.INFO, logger="test"):
        done = make_outputs(_outputs(tmp_path, ["a", "b", "c"], {"c": 2}), build, LOG, tmp_path / "stage")
    assert done == {"reused": ["a"], "built": ["b", "c"]} and made == ["b", "c"]
    assert "reused a: staged in" in caplog.text
    assert [(tmp_path / f"out/{n}/t.csv").read_text() for n in "abc"] == ["a", "b again", "c again"]
    assert not stage.exists()


def test_a_staged_output_without_its_fingerprint_is_rebuilt(tmp_path):
    outs = _outputs(tmp_path, ["a"])
    outs[0].staged.parent.mkdir(parents=True)
    outs[0].staged.write_text("killed while writing")  # no fingerprint: the job died before it was complete
    make_outputs(outs, lambda out, path: path.write_text("whole"), LOG, tmp_path / "stage")
    assert (tmp_path / "out/a/t.csv").read_text() == "whole"


def test_a_lone_output_fails_with_its_own_error(tmp_path):
    def build(out, path):
        raise KeyError("the original error")

    with pytest.raises(KeyError, match="the original error"):
        make_outputs([Output("a", tmp_path / "a.csv")], build, LOG)


def test_tree_digest_is_the_content_of_a_store(tmp_path):
    a = tmp_path / "a.zarr"
    (a / "layer1").mkdir(parents=True)
    (a / "zarr.json").write_text("{}")
    (a / "layer1/c0").write_bytes(b"\x00\x01")
    d = tree_digest(a)
    (a / ".snakemake_timestamp").touch()  # Snakemake's marker of a finished directory output
    assert tree_digest(a) == d
    b = shutil.copytree(a, tmp_path / "b.zarr")  # a copy (new mtimes) keeps its digest
    assert tree_digest(b) == d
    (b / "layer1/c0").write_bytes(b"\x00\x02")
    assert tree_digest(b) != d
    (b / "layer1/c0").rename(b / "layer1/c1")
    assert tree_digest(b) != d
    with pytest.raises(ValueError, match="does not exist"):
        tree_digest(tmp_path / "nope")


# ---------------------------------------------------------------------------------------------
# Through Snakemake
# ---------------------------------------------------------------------------------------------


def _config(group_size: int = 50) -> dict:
    """The tiny test config with a group of 2+ runs in every experiment kind that estimates: plain MLPs with
    two presets (tishby2017), Butakov's compressed X on the training rows (butakov2024), Kawaguchi's
    stochastic encoders (kawaguchi2023_toy)."""
    cfg = yaml.safe_load((REPO / ".test/config.yaml").read_text())
    exps = cfg["experiments"]
    exps["tishby2017"]["estimators"] = ["binning_30", "kde_adaptive"]
    exps["butakov2024"]["sweep"] = {"seed": [0, 1]}
    exps["kawaguchi2023_toy"]["sweep"] = {"dataset": ["blobs_0"], "weight_decay": [0.0], "seed": [0, 1]}
    cfg["experiments"] = {k: exps[k] for k in ("tishby2017", "butakov2024", "kawaguchi2023_toy")}
    cfg["training_group_size"] = group_size
    return cfg


RUNS = {
    "tishby2017": ["activation~tanh/seed~0", "activation~relu/seed~0"],
    "butakov2024": ["seed~0", "seed~1"],
    "kawaguchi2023_toy": ["dataset~blobs_0/weight_decay~0.0/seed~0", "dataset~blobs_0/weight_decay~0.0/seed~1"],
}
PRESETS = {"tishby2017": ["binning_30", "kde_adaptive"], "butakov2024": ["wkl_ae2x_pca2"],
           "kawaguchi2023_toy": ["stochastic_mc"]}  # fmt: skip
TABLES = [f"results/runs/{e}/{r}/mi/{p}.csv" for e, runs in RUNS.items() for r in runs for p in PRESETS[e]]
STORES = [f"results/runs/{e}/{r}/activations.zarr" for e, runs in RUNS.items() for r in runs]


def _snakemake(work: Path, *args, check=True) -> subprocess.CompletedProcess:
    out = subprocess.run([*snakemake_cmd(), *args], cwd=work, capture_output=True, text=True)
    if check and out.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    return out


def _text(out: subprocess.CompletedProcess) -> str:
    return out.stdout + out.stderr


def _job_stats(text: str) -> dict[str, int]:
    stats = {}
    for line in text.split("Job stats:")[1].split("\n\n")[0].splitlines()[3:]:
        name, count = line.split()
        stats[name] = int(count)
    return stats


def _resources(text: str, rule: str):
    """The resources a dry run prints for the (one) job of ``rule``, as dict items (compare with <=)."""
    job = text.split(f"rule {rule}:")[1].split("\n\n")[0]
    line = next(line for line in job.splitlines() if line.strip().startswith("resources:"))
    return dict(item.split("=", 1) for item in line.split(":", 1)[1].strip().split(", ")).items()


def _table_without_timings(path: Path) -> pd.DataFrame:
    """The table as its CSV text holds it (every field a string), but the wall-clock column."""
    return pd.read_csv(path, dtype=str, keep_default_na=False).drop(columns="seconds")


def _work(tmp_path: Path, name: str, cfg: dict) -> Path:
    work = copy_repo(tmp_path / name)
    (work / "group.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))  # sweep order names the runs
    return work


def test_dry_run_makes_one_extract_and_one_estimate_job_per_group(tmp_path):
    work = _work(tmp_path, "w", _config())
    stats = _job_stats(_text(_snakemake(work, "-n", "--configfile=group.yaml", *TABLES)))
    for e in RUNS:
        assert stats[f"extract_group_{e}_0"] == stats[f"estimate_group_{e}_0"] == 1, e
    assert "extract" not in stats and "estimate" not in stats
    assert stats["total"] == 3 + 1 + 3 + 3 + 3  # datasets (tishby12, digits, blobs_0), compressor, 3 stages of 3 groups
    # a run's table is still a target; a preset its experiment does not list keeps the rule `estimate`
    one = f"results/runs/tishby2017/{RUNS['tishby2017'][1]}/mi/binning_30.csv"
    text = _text(_snakemake(work, "-n", "--configfile=group.yaml", one))
    assert "rule estimate_group_tishby2017_0:" in text and "rule estimate:" not in text
    other = f"results/runs/tishby2017/{RUNS['tishby2017'][1]}/mi/stochastic_mc.csv"
    text = _text(_snakemake(work, "-n", "--configfile=group.yaml", other))
    assert "rule estimate:" in text and "rule extract_group_tishby2017_0:" in text
    # runs alone keep `extract` and `estimate`
    stats = _job_stats(_text(_snakemake(work, "-n", "--configfile=group.yaml", "--config=training_group_size=1",
                                        *TABLES)))  # fmt: skip
    assert (stats["extract"], stats["estimate"]) == (6, 8) and not any("group" in k for k in stats)


def test_dry_run_group_resources_scale_and_take_the_profile_overrides(tmp_path):
    work = _work(tmp_path, "w", _config())
    target = TABLES[0]
    text = _text(_snakemake(work, "-n", "--configfile=group.yaml", target))
    # tishby2017: 2 runs x 2 presets = 4 tables of 60 min; 2 runs of 30 min; one member's memory + 20 MB each
    assert _resources(text, "estimate_group_tishby2017_0") >= {"runtime": "240", "mem_mb": "4080"}.items()
    assert _resources(text, "extract_group_tishby2017_0") >= {"runtime": "60", "mem_mb": "4040"}.items()
    # `--set-resources estimate:...` is per table, `gpu` and the like as given
    text = _snakemake(work, "-n", "--configfile=group.yaml", target, "--set-resources", "estimate:runtime=5",
                      "estimate:mem_mb=1000", "estimate:gpu=1", "extract:runtime=2")  # fmt: skip
    text = _text(text)
    assert _resources(text, "estimate_group_tishby2017_0") >= {"runtime": "20", "mem_mb": "1080", "gpu": "1"}.items()
    assert _resources(text, "extract_group_tishby2017_0") >= {"runtime": "4", "mem_mb": "4040"}.items()
    # the summed runtime stops at a day (4 tables x 1000 min would be 4000)
    text = _text(_snakemake(work, "-n", "--configfile=group.yaml", target, "--set-resources", "estimate:runtime=1000"))
    assert _resources(text, "estimate_group_tishby2017_0") >= {"runtime": "1440"}.items()


@pytest.mark.slow
@pytest.mark.long
def test_group_jobs_make_the_stores_and_tables_of_one_job_per_run(tmp_path):
    """Group rules against single-run rules on the same weights: byte-identical activations stores, and
    MI tables identical to the byte but for their wall-clock column ``seconds``."""
    group = _work(tmp_path, "group", _config())
    text = _text(_snakemake(group, "--cores", "2", "--configfile=group.yaml", *TABLES))
    assert "extract_group_butakov2024_0" in text and "estimate_group_kawaguchi2023_toy_0" in text
    assert not (group / "results/checkpoints/staged").exists()  # published, staging emptied
    # The same weights (and fitted compressor) estimated one job per run: train nothing again.
    single = _work(tmp_path, "single", _config(group_size=1))
    for e, runs in RUNS.items():
        for r in runs:
            for name in ("weights.zarr", "metrics.csv"):
                src, dst = group / f"results/runs/{e}/{r}/{name}", single / f"results/runs/{e}/{r}/{name}"
                dst.parent.mkdir(parents=True, exist_ok=True)
                (shutil.copytree if src.is_dir() else shutil.copy2)(src, dst)
    for folder in ("datasets", "compressors"):
        shutil.copytree(group / "results" / folder, single / "results" / folder)
    out = _snakemake(single, "--cores", "2", "--configfile=group.yaml", "--rerun-triggers=mtime", *TABLES)
    stats = _job_stats(_text(out))
    assert stats == {"extract": 6, "estimate": 8, "total": 14}, stats  # nothing trained, nothing grouped
    for store in STORES:
        assert tree_digest(group / store) == tree_digest(single / store), store
        assert load_store(group / store).identical(load_store(single / store))
    for table in TABLES:
        a, b = _table_without_timings(group / table), _table_without_timings(single / table)
        assert len(a) > 0 and a.equals(b), table


TISHBY = {**_config(), "experiments": {"tishby2017": {**_config()["experiments"]["tishby2017"]}}}
TISHBY["experiments"]["tishby2017"]["sweep"] = {"activation": ["tanh"], "seed": [0, 1, 2]}
T_RUNS = [f"activation~tanh/seed~{s}" for s in range(3)]
T_TABLES = [f"results/runs/tishby2017/{r}/mi/{p}.csv" for r in T_RUNS for p in PRESETS["tishby2017"]]
T_STORES = [f"results/runs/tishby2017/{r}/activations.zarr" for r in T_RUNS]
STAGED = "results/checkpoints/staged/tishby2017"
EXTRACT_LOG = "results/logs/extract/tishby2017/activation~tanh/seed~0+2.log"
ESTIMATE_LOG = "results/logs/estimate/tishby2017/activation~tanh/seed~0+2.log"


def _diverge_layer2(store: Path) -> None:
    """NaN in layer 2 at the fourth capture of a run's activations: a diverged run, as extraction marks one."""
    acts = load_store(store)
    acts["layer2"][3] = float("nan")
    shutil.rmtree(store)
    write_activations(acts, store)


@pytest.mark.slow
@pytest.mark.long
def test_a_failed_group_job_keeps_what_it_finished_and_the_rerun_reuses_it(tmp_path):
    work = _work(tmp_path, "w", TISHBY)
    run = ("--cores", "1", "--configfile=group.yaml")
    _snakemake(work, *run, *[f"results/runs/tishby2017/{r}/metrics.csv" for r in T_RUNS])

    # Extraction: the middle run's weights store is damaged (a chunk lost), so the group job fails on it.
    weights = work / f"results/runs/tishby2017/{T_RUNS[1]}/weights.zarr"
    saved = shutil.copytree(weights, tmp_path / "weights.zarr")
    chunk = next(p for p in sorted((weights / "layer0_weight").rglob("*")) if p.is_file() and "c" in p.parts)
    chunk.unlink()
    out = _snakemake(work, *run, *T_STORES, check=False)
    assert out.returncode != 0
    log = (work / EXTRACT_LOG).read_text()
    assert "1 of 3 outputs failed (tishby2017/activation~tanh/seed~1)" in log and "is damaged" in log
    assert not any((work / s).exists() for s in T_STORES)  # Snakemake removed the outputs of the failed job
    for r in (T_RUNS[0], T_RUNS[2]):
        assert (work / STAGED / r / "activations.zarr").is_dir(), r
        assert (work / STAGED / r / f"activations.zarr{FINGERPRINT_SUFFIX}").is_file(), r
    shutil.rmtree(weights)
    shutil.copytree(saved, weights)  # repaired
    _snakemake(work, *run, *T_STORES)
    log = (work / EXTRACT_LOG).read_text()
    for r in (T_RUNS[0], T_RUNS[2]):
        assert f"reused tishby2017/{r}: staged in" in log, log
    assert f"reused tishby2017/{T_RUNS[1]}" not in log and "3 outputs: 1 built, 2 reused from staging" in log

    # Estimation: the middle run diverged (NaN activations); its two tables fail, the other four are staged.
    store = work / T_STORES[1]
    clean = shutil.copytree(store, tmp_path / "activations.zarr")
    _diverge_layer2(store)
    out = _snakemake(work, *run, *T_TABLES, check=False)
    assert out.returncode != 0
    log = (work / ESTIMATE_LOG).read_text()
    assert "2 of 6 outputs failed (tishby2017/activation~tanh/seed~1 with binning_30, " in log
    assert "non-finite activations (NaN or inf) in run 'tishby2017/activation~tanh/seed~1', layer 2" in log
    assert "the 4 finished are staged" in out.stdout + out.stderr  # the failed job's log, shown by the profile
    assert not any((work / t).exists() for t in T_TABLES)
    staged = {r: {p: work / STAGED / r / f"mi/{p}.csv" for p in PRESETS["tishby2017"]} for r in T_RUNS}
    assert all(p.is_file() for r in (T_RUNS[0], T_RUNS[2]) for p in staged[r].values())
    assert not any(p.exists() for p in staged[T_RUNS[1]].values())
    kept = {(r, p): path.read_bytes() for r in (T_RUNS[0], T_RUNS[2]) for p, path in staged[r].items()}
    binning = staged[T_RUNS[0]]["binning_30"]
    fingerprint = json.loads(binning.with_name(binning.name + FINGERPRINT_SUFFIX).read_text())
    assert fingerprint["preset"] == TISHBY["estimators"]["binning_30"]
    assert fingerprint["activations"] == tree_digest(work / T_STORES[0])

    shutil.rmtree(store)
    shutil.copytree(clean, store)  # repaired
    _snakemake(work, *run, *T_TABLES)
    log = (work / ESTIMATE_LOG).read_text()
    assert "6 outputs: 2 built, 4 reused from staging" in log
    for (r, p), data in kept.items():
        assert f"reused tishby2017/{r} with {p}: staged in" in log
        assert (work / f"results/runs/tishby2017/{r}/mi/{p}.csv").read_bytes() == data  # the staged table itself
    assert not (work / "results/checkpoints/staged").exists()

    # The reused tables equal fresh ones (recomputed: after a success nothing is staged to reuse).
    reused = {t: _table_without_timings(work / t) for t in T_TABLES}
    _snakemake(work, *run, "--forcerun=estimate_group_tishby2017_0", *T_TABLES)
    assert "6 outputs: 6 built, 0 reused from staging" in (work / ESTIMATE_LOG).read_text()
    for t in T_TABLES:
        assert reused[t].equals(_table_without_timings(work / t)), t
