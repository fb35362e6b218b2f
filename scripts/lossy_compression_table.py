"""Rule lossy_compression_table: stack the point tables into accuracy.csv."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "workflow"))  # noqa: F821

import pandas as pd  # noqa: E402
from infoplane import logs  # noqa: E402

sm = snakemake  # noqa: F821
log = logs.to_file(sm.log[0])
table = pd.concat([pd.read_csv(p) for p in sm.input], ignore_index=True)
table = table.sort_values(["family", "source", "pipeline", "true_mi_nats", "seed"]).reset_index(drop=True)
table.to_csv(sm.output.table, index=False)
log.info("accuracy table: %d rows from %d points", len(table), len(sm.input))
