"""Rule lossy_compression_claims: up to which true MI each pipeline stays within the tolerance."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "workflow"))  # noqa: F821

import pandas as pd  # noqa: E402
from infoplane import logs  # noqa: E402
from infoplane.claims import CLAIM_COLUMNS, CLAIMS  # noqa: E402

sm = snakemake  # noqa: F821
log = logs.to_file(sm.log[0])
table = CLAIMS["lossy_compression"](pd.read_csv(sm.input.table))[CLAIM_COLUMNS]
table.to_csv(sm.output.claims, index=False)
log.info("claims (lossy_compression):\n%s", table.to_string())
