"""Rule variational_limits_table: the per-(transform, seed) staircase tables stacked into one."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "workflow"))  # noqa: F821

import pandas as pd  # noqa: E402
from infoplane import logs  # noqa: E402

sm = snakemake  # noqa: F821
log = logs.to_file(sm.log[0])
table = pd.concat([pd.read_csv(path) for path in sm.input], ignore_index=True)
table.to_csv(sm.output.table, index=False)
diverged = table[table["run_diverged"]].groupby(["method", "critic", "transform", "seed"]).size()
log.info("%d rows; runs stopped by a diverged critic: %s", len(table), diverged.to_dict() or "none")
