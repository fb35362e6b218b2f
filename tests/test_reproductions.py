"""The reproduction table: claims beside scale and the cost Snakemake measured for each experiment's jobs."""

from __future__ import annotations

import pandas as pd
import pytest
from infoplane.analysis.reproductions import claim_summary, experiment_costs, reproduction_table, to_markdown

HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def _bench(path, seconds, rss, cpu):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + f"{seconds}\t0:00:01\t{rss}\t1\t1\t1\t0\t0\t50\t{cpu}\n")


def test_costs_sum_the_jobs_of_one_experiment_and_no_other(tmp_path):
    b = tmp_path / "benchmarks"
    _bench(b / "train/exp/activation~tanh/seed~0.tsv", 10.0, 300.0, 9.5)
    _bench(b / "estimate/exp/activation~tanh/seed~0/binning.tsv", 2.5, 120.0, 2.0)
    _bench(b / "claims/exp.tsv", 0.5, 80.0, 0.25)
    _bench(b / "train/exp_other/seed~0.tsv", 100.0, 900.0, 99.0)  # a prefix of the name is another experiment
    assert experiment_costs(b, "exp") == {"jobs": 3, "wall_seconds": 13.0, "cpu_seconds": 11.8, "max_rss_mb": 300.0}
    assert experiment_costs(b, "missing")["jobs"] == 0


def test_a_file_that_is_not_a_benchmark_is_named(tmp_path):
    bad = tmp_path / "benchmarks/train/exp/run.tsv"
    bad.parent.mkdir(parents=True)
    bad.write_text("a\tb\n1\t2\n")
    with pytest.raises(ValueError, match="run.tsv: not a Snakemake benchmark file"):
        experiment_costs(tmp_path / "benchmarks", "exp")


def test_claims_are_counted_and_failures_named(tmp_path):
    claims = pd.DataFrame({"claim": ["a", "b", "c", "d"], "holds": [True, False, True, None]})
    assert claim_summary(claims) == {"claims_held": 2, "claims_checked": 3, "claims_failed": "b"}
    path = tmp_path / "claims.csv"
    claims.to_csv(path, index=False)
    _bench(tmp_path / "b/train/exp/r.tsv", 4.0, 10.0, 3.0)
    exps = [
        {"experiment": "exp", "config": "c.yaml", "runs": 2, "seeds": 2, "epochs": "10", "claims": str(path)},
        {"experiment": "bare", "config": "c.yaml", "runs": 1, "seeds": 1, "epochs": "", "claims": None},
    ]
    t = reproduction_table(exps, tmp_path / "b")
    assert t.loc[0, ["claims_held", "claims_checked", "jobs", "cpu_seconds"]].tolist() == [2, 3, 1, 3.0]
    assert t.loc[1, "claims_checked"] == 0 and t.loc[1, "jobs"] == 0
    page = to_markdown(t)
    assert "| exp | c.yaml | 2 | 2 | 10 | 2 | 3 | 1 | 4.0 | 3.0 | 10.0 |" in page and "- `exp`: b" in page
