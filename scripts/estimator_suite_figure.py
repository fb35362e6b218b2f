"""Rule estimator_suite_figure: the task x estimator heatmap of |log2(estimate / truth)|."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "workflow"))  # noqa: F821

import pandas as pd  # noqa: E402
from infoplane import logs  # noqa: E402
from infoplane.benchmarks.suite import heatmap  # noqa: E402

sm = snakemake  # noqa: F821
log = logs.to_file(sm.log[0])
table = pd.read_csv(sm.input.table, keep_default_na=True).fillna({"error": ""})
Path(sm.output.png).parent.mkdir(parents=True, exist_ok=True)
heatmap(table, sm.output.png)
log.info("heatmap of %d rows written to %s", len(table), sm.output.png)
