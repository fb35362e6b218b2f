"""Rule benchmark_ksg: infoplane's KSG beside bmi's and a plain float loop (infoplane.benchmarks.ksg_speed).

bmi runs in its own interpreter (params.bmi_python); where that is missing the bmi columns are empty
and the table's note says so.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "workflow"))  # noqa: F821

import pandas as pd  # noqa: E402
import torch  # noqa: E402
from infoplane import logs  # noqa: E402
from infoplane.benchmarks import ksg_speed  # noqa: E402

sm = snakemake  # noqa: F821
log = logs.to_file(sm.log[0])
torch.set_num_threads(sm.threads)
table = ksg_speed.run(
    sizes=sm.params.sizes,
    dims=sm.params.dims,
    repeats=sm.params.repeats,
    quick=sm.params.quick,
    bmi_python=sm.params.bmi_python,
    log=log,
)
table.to_csv(sm.output[0], index=False)
with pd.option_context("display.width", 250, "display.max_columns", None):
    log.info("\n%s", table.to_string())
