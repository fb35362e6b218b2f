"""The figure rules that draw one table (scripts/table_figure.py) run through Snakemake on small tables."""

from __future__ import annotations

import subprocess

import pandas as pd
import pytest
from conftest import REPO, snakemake_cmd

# figure rule's input table -> its figure, with the columns the figure reads
TABLES = {
    "results/experiments/estimators/accuracy.csv": (
        "results/figures/estimators/accuracy.png",
        {"estimator": ["ksg", "ksg", "gaussian", "gaussian"], "task": ["g1", "g2", "g1", "g2"], "n": [500] * 4,
         "truth_bits": [1.0, 2.0, 1.0, 2.0], "mi_bits": [0.9, 1.8, 1.0, 2.1], "ci_low_bits": [0.8, 1.6, 0.9, 1.9],
         "ci_high_bits": [1.0, 2.0, 1.1, 2.3], "covered": [False, True, True, True]},
    ),
    "results/experiments/lossy_compression/accuracy.csv": (
        "results/figures/lossy_compression/accuracy.png",
        {"family": ["gaussian_bumps"] * 4, "source": ["gaussian"] * 4, "pipeline": ["pca4+wkl", "pca4+ksg"] * 2,
         "true_mi_bits": [1.0, 1.0, 3.0, 3.0], "mi_bits": [0.9, 1.1, 2.8, 3.1], "ci_low_bits": [0.8, 1.0, 2.6, 2.9],
         "ci_high_bits": [1.0, 1.2, 3.0, 3.3]},
    ),
}


@pytest.mark.slow
def test_table_figures_are_drawn_from_their_tables(tmp_path):
    for table, (_, columns) in TABLES.items():
        (tmp_path / table).parent.mkdir(parents=True, exist_ok=True)
        pd.DataFrame(columns).to_csv(tmp_path / table, index=False)
    pngs = [png for png, _ in TABLES.values()]
    args = ["-s", str(REPO / "Snakefile"), "--directory", str(tmp_path)]
    args += ["--configfile", str(REPO / ".test/config.yaml")]
    # only the figure rules: the hand-made tables stand for what the upstream rules would make
    args += ["--allowed-rules", "estimator_accuracy_figure", "lossy_compression_figure"]
    out = subprocess.run([*snakemake_cmd(), *args, "--cores", "1", *pngs], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    for png in pngs:
        assert (tmp_path / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and (tmp_path / png).stat().st_size > 10_000
    # a table without the columns its figure reads fails, naming the column
    pd.DataFrame({"task": ["g1"]}).to_csv(tmp_path / "results/experiments/estimators/accuracy.csv", index=False)
    out = subprocess.run([*snakemake_cmd(), *args, "--cores", "1", "--forcerun", "estimator_accuracy_figure", pngs[0]],
                         capture_output=True, text=True)  # fmt: skip
    assert out.returncode != 0
    log = (tmp_path / "results/logs/estimator_benchmark/accuracy_figure.log").read_text()
    assert "estimator" in log or "estimator" in out.stderr
