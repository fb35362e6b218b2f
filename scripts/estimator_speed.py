"""Rule estimator_speed: seconds per estimate over n and d, beside scikit-learn and a cKDTree KSG."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "workflow"))  # noqa: F821

import torch  # noqa: E402
from infoplane import logs  # noqa: E402
from infoplane.benchmarks.speed import speed_grid  # noqa: E402

sm = snakemake  # noqa: F821
log = logs.to_file(sm.log[0])
torch.set_num_threads(sm.threads)
p = sm.params
table = speed_grid(
    methods=p.methods, sample_sizes=p.sample_sizes, dims=p.dims, references=p.references,
    repeats=p.repeats, device=p.device,
)  # fmt: skip
Path(sm.output.table).parent.mkdir(parents=True, exist_ok=True)
table.to_csv(sm.output.table, index=False)
log.info("\n%s", table.to_string(index=False))
