"""Rule estimator_accuracy: the accuracy grid of the estimators on ground-truth tasks."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "workflow"))  # noqa: F821

import torch  # noqa: E402
from infoplane import logs  # noqa: E402
from infoplane.benchmarks.accuracy import accuracy_grid, coverage_summary  # noqa: E402

sm = snakemake  # noqa: F821
log = logs.to_file(sm.log[0])
torch.set_num_threads(sm.threads)
p = sm.params
table = accuracy_grid(
    tasks=p.tasks, estimators=p.estimators, sample_sizes=p.sample_sizes, seeds=p.seeds,
    ci_resamples=p.ci_resamples, ci_seeds=p.ci_seeds, device=p.device,
)  # fmt: skip
Path(sm.output.table).parent.mkdir(parents=True, exist_ok=True)
table.to_csv(sm.output.table, index=False)
log.info("coverage and error per estimator:\n%s", coverage_summary(table).to_string(index=False))
