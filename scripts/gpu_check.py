"""Rule gpu_check: every estimator on CPU and CUDA, and the GPU paths timed (infoplane.benchmarks.gpu_check).

The table goes to the output and to the log. A comparison that fails its tolerance fails the job after
both are written; Snakemake then removes the output of the failed job, and the log keeps the table.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "workflow"))  # noqa: F821

import pandas as pd  # noqa: E402
import torch  # noqa: E402
from infoplane import logs  # noqa: E402
from infoplane.benchmarks import gpu_check  # noqa: E402

sm = snakemake  # noqa: F821
log = logs.to_file(sm.log[0])
torch.set_num_threads(sm.threads)
table = gpu_check.run_gpu_check(sm.output[0], quick=sm.params.quick, seed=sm.params.seed)
with pd.option_context("display.width", 250, "display.max_columns", None, "display.max_colwidth", 200):
    log.info("\n%s", table.to_string())
failed = gpu_check.failures(table)
if len(failed):
    raise SystemExit(f"gpu check: {len(failed)} comparison(s) failed: {', '.join(failed['estimator_or_task'])}")
