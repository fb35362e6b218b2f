"""Rule variational_limits_claims: the claims of Song & Ermon (2020) from the staircase table."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "workflow"))  # noqa: F821

import pandas as pd  # noqa: E402
from infoplane import logs  # noqa: E402
from infoplane.claims import CLAIM_COLUMNS, CLAIMS  # noqa: E402
from infoplane.claims.song_ermon2020 import stage_variance  # noqa: E402

sm = snakemake  # noqa: F821
log = logs.to_file(sm.log[0])
estimates = pd.read_csv(sm.input.table)
fraction = sm.params.variance_fraction
table = CLAIMS["song_ermon2020"](estimates, variance_fraction=fraction)[CLAIM_COLUMNS]
table.to_csv(sm.output.claims, index=False)
stage_variance(estimates, fraction).to_csv(sm.output.variance, index=False)
log.info("claims (song_ermon2020):\n%s", table.to_string())
