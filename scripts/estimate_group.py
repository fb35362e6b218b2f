"""Rules estimate_group_*: the MI tables of every run of a training group with every preset of its experiment.

Each table is written under params.staged (outside the declared outputs, which Snakemake deletes
when a job fails) and moved into place when all are made; a rerun reuses the staged tables whose
fingerprint matches (infoplane.io.staging) and the log says which.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "workflow"))  # noqa: F821

import torch  # noqa: E402
from infoplane import logs  # noqa: E402
from infoplane.analysis import TableToEstimate, write_mi_tables  # noqa: E402

sm = snakemake  # noqa: F821
log = logs.to_file(sm.log[0])
torch.set_num_threads(sm.threads)
p = sm.params
activations = dict(zip(p.runs, sm.input.activations, strict=True))
tables, outputs, staged = [], iter(sm.output.tables), iter(p.staged)
for run in p.runs:  # the order of the outputs: run by run, each with every preset
    for estimator in p.estimators:
        x_compressor = sm.input.get(f"x_compressor_{estimator}")
        tables.append(TableToEstimate(f"{p.experiment}/{run}", estimator, dict(p.presets[estimator]),
                                      activations[run], next(outputs), x_compressor, next(staged)))  # fmt: skip
log.info("estimating %d tables: %d runs of %s x %s", len(tables), len(p.runs), p.experiment, list(p.estimators))
done = write_mi_tables(
    sm.input.dataset, tables, log, device=p.device, on_nonfinite=p.on_nonfinite, stage_root=p.stage_root
)
if done["reused"]:
    log.info("reused %d staged tables: %s", len(done["reused"]), done["reused"])
