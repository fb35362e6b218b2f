"""Rule variational_limits_run: every method and critic through the staircase, for one (transform, seed)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "workflow"))  # noqa: F821

from infoplane import logs  # noqa: E402
from infoplane.benchmarks.staircase import staircase_table  # noqa: E402

sm = snakemake  # noqa: F821
log = logs.to_file(sm.log[0])
table = staircase_table(
    transforms=[sm.wildcards.vl_transform], seeds=[int(sm.wildcards.vl_seed)],
    methods=sm.params.methods, critics=sm.params.critics, **sm.params.settings,
)  # fmt: skip
Path(sm.output.table).parent.mkdir(parents=True, exist_ok=True)
table.to_csv(sm.output.table, index=False)
log.info("wrote %d rows to %s", len(table), sm.output.table)
