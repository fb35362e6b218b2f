"""Rule aggregate: stack the run tables of an experiment, with sweep parameters as columns."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "workflow"))  # noqa: F821

import pandas as pd  # noqa: E402
from infoplane import logs  # noqa: E402
from infoplane.analysis import stack_run_tables  # noqa: E402

sm = snakemake  # noqa: F821
log = logs.to_file(sm.log[0])
runs, estimators, run_configs = sm.params.runs, sm.params.estimators, sm.params.run_configs


def labels(run):
    """The run's name, its sweep values, and activation and seed even when not swept."""
    cfg = run_configs[run]
    # a network from user code (model.factory) has no activation key: its factory names the condition
    activation = cfg["model"].get("factory") or cfg["model"]["activation"]
    return {"run": run, "activation": activation, "seed": int(cfg["training"]["seed"])} | dict(
        runs[run]
    )


mi_paths = iter(sm.input.mi)
mi_tables = [(pd.read_csv(next(mi_paths)), labels(run) | {"estimator": est}) for run in runs for est in estimators]
# Wall-clock seconds stay in the run tables: the experiment table is the same bytes on every rerun.
if mi_tables:
    mi = stack_run_tables(mi_tables, sm.wildcards.experiment).drop(columns="seconds")
else:  # an experiment without estimators (one of weights and metrics): the columns, no rows
    from infoplane.analysis.run_mi import MI_COLUMNS  # imports torch: only here

    mi = pd.DataFrame(columns=["experiment", "run", "estimator", *MI_COLUMNS]).drop(columns="seconds")
mi.to_csv(sm.output.mi, index=False)
metric_tables = [(pd.read_csv(path), labels(run)) for path, run in zip(sm.input.metrics, runs, strict=True)]
stack_run_tables(metric_tables, sm.wildcards.experiment).to_csv(sm.output.metrics, index=False)
log.info("stacked %d MI tables and %d metrics tables", len(mi_tables), len(metric_tables))
