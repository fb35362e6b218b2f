"""Rule estimate: the MI table of one run with one estimator preset."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "workflow"))  # noqa: F821

import torch  # noqa: E402
from infoplane import logs  # noqa: E402
from infoplane.analysis import TableToEstimate, write_mi_tables  # noqa: E402

sm = snakemake  # noqa: F821
log = logs.to_file(sm.log[0])
torch.set_num_threads(sm.threads)
table = TableToEstimate(
    f"{sm.wildcards.experiment}/{sm.wildcards.run}", sm.wildcards.estimator, dict(sm.params.preset),
    sm.input.activations, sm.output.table, sm.input.get("x_compressor"),
)  # fmt: skip
write_mi_tables(sm.input.dataset, [table], log, device=sm.params.device, on_nonfinite=sm.params.on_nonfinite)
