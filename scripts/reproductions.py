"""Rule reproductions: the claims of every experiment beside its scale and its jobs' cost."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "workflow"))  # noqa: F821

from infoplane import logs  # noqa: E402
from infoplane.analysis.reproductions import reproduction_table, to_markdown  # noqa: E402

sm = snakemake  # noqa: F821
log = logs.to_file(sm.log[0])
table = reproduction_table(sm.params.experiments, sm.params.benchmarks)
table.to_csv(sm.output.table, index=False)
Path(sm.output.page).write_text(to_markdown(table))
log.info("%d experiments, %d of %d claims held", len(table), table["claims_held"].fillna(0).sum(),
         table["claims_checked"].sum())  # fmt: skip
