"""Rules estimator_suite and estimator_manifold_suite: every estimator preset on a known-MI suite, and the summary."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "workflow"))  # noqa: F821

import torch  # noqa: E402
from infoplane import logs  # noqa: E402
from infoplane.benchmarks.suite import MANIFOLD_ESTIMATORS, peer_rows, run_suite, summary  # noqa: E402

sm = snakemake  # noqa: F821
log = logs.to_file(sm.log[0])
torch.set_num_threads(sm.threads)
p = sm.params
estimators = p.estimators if p.estimators is not None else MANIFOLD_ESTIMATORS
table = run_suite(
    estimators=estimators,
    tasks=p.tasks,
    n=p.n,
    seeds=p.seeds,
    ci_resamples=p.ci_resamples,
    device=p.device,
    suite=p.suite,
)
if p.suite == "manifold":
    table = peer_rows(table)  # the peers' shipped measurements on the same tasks, beside ours
Path(sm.output.table).parent.mkdir(parents=True, exist_ok=True)
table.to_csv(sm.output.table, index=False)
totals = summary(table, by_family=p.suite == "manifold")
totals.to_csv(sm.output.summary, index=False)
log.info("solved (|ln(est/truth)| < ln 1.5), coverage and errors per estimator:\n%s", totals.to_string(index=False))
