"""Rules extract_group_*: the activations stores of every run of a training group, in one job.

Each store is built under params.staged (outside the declared outputs, which Snakemake deletes when
a job fails) and moved into place when all are made; a rerun reuses the staged stores whose
fingerprint matches (infoplane.io.staging) and the log says which.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "workflow"))  # noqa: F821

import torch  # noqa: E402
from infoplane import logs  # noqa: E402
from infoplane.extraction import RunToExtract, extract_runs  # noqa: E402

sm = snakemake  # noqa: F821
log = logs.to_file(sm.log[0])
torch.set_num_threads(sm.threads)
p = sm.params
runs = [
    RunToExtract(f"{p.experiment}/{run}", cfg, weights, acts, staged)
    for run, cfg, weights, acts, staged in zip(
        p.runs, p.run_configs, sm.input.weights, sm.output.activations, p.staged, strict=True
    )
]
log.info("extracting %d runs of %s (%s ... %s)", len(runs), p.experiment, p.runs[0], p.runs[-1])
extract_runs(sm.input.dataset, runs, log, p.stage_root)
