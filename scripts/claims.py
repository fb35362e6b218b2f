"""Rule claims: check the paper's statements from the experiment's tables."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "workflow"))  # noqa: F821

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from infoplane import logs  # noqa: E402
from infoplane.claims import CLAIM_COLUMNS, CLAIMS  # noqa: E402
from infoplane.io import load_store  # noqa: E402

sm = snakemake  # noqa: F821
log = logs.to_file(sm.log[0])
mi = pd.read_csv(sm.input.mi)
mi = mi[mi["estimator"] == sm.params.estimator]
metrics = pd.read_csv(sm.input.metrics)
# I(X;Y) = H(Y): the label is a function of the input pattern.
_, counts = np.unique(load_store(sm.input.dataset, "dataset store")["y"].values, return_counts=True)
h_y_bits = float(-(counts / counts.sum() * np.log2(counts / counts.sum())).sum())
check = CLAIMS[sm.params.claims]
tables = {name: pd.read_csv(sm.input[name]) for name in getattr(check, "tables", ())}  # e.g. generalisation
table = check(mi, metrics, h_y_bits, **tables)[CLAIM_COLUMNS]
table.to_csv(sm.output.claims, index=False)
log.info("claims (%s, estimator %s):\n%s", sm.params.claims, sm.params.estimator, table.to_string())
