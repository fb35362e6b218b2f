"""Rule generalisation: per run, the generalisation gap, the MI of every layer and the weight baselines."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "workflow"))  # noqa: F821

import pandas as pd  # noqa: E402
from infoplane import logs  # noqa: E402
from infoplane.analysis.generalisation import generalisation_table, weight_baselines  # noqa: E402
from infoplane.io import load_store  # noqa: E402

sm = snakemake  # noqa: F821
log = logs.to_file(sm.log[0])
mi = pd.read_csv(sm.input.mi)
baselines = {
    run: weight_baselines(load_store(path, "weights store"))
    for run, path in zip(sm.params.runs, sm.input.weights, strict=True)
}
table = generalisation_table(mi[mi["estimator"] == sm.params.estimator], pd.read_csv(sm.input.metrics), baselines)
table.to_csv(sm.output.table, index=False)
log.info("%d runs, MI from %s:\n%s", len(table), sm.params.estimator, table.describe().T.to_string())
