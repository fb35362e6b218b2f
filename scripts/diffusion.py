"""Rule diffusion: distance of the weights from initialisation against updates, and its fits, for every run."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "workflow"))  # noqa: F821

from infoplane import logs  # noqa: E402
from infoplane.analysis.weights import diffusion_tables  # noqa: E402
from infoplane.io import load_store  # noqa: E402
from infoplane.training.schedules import run_regime, updates_per_epoch  # noqa: E402

sm = snakemake  # noqa: F821
log = logs.to_file(sm.log[0])
n_train = int(load_store(sm.input.dataset, "dataset store")["is_train"].values.sum())
runs = {}
for path, (run, point) in zip(sm.input.weights, sm.params.runs.items(), strict=True):
    training = sm.params.run_configs[run]["training"]
    batch, regime = run_regime(training, n_train)  # the regime the run trained with (adapted drops)
    labels = {"experiment": sm.wildcards.experiment, "run": run} | dict(point)
    labels |= {"batch_size": batch, "lr": regime.lr, "epochs": regime.epochs}
    runs[run] = {
        "weights": load_store(path, "weights store"),
        "updates_per_epoch": updates_per_epoch(n_train, batch),
        "drop_epochs": regime.drop_epochs,
        "labels": labels,
    }
distance, fits = diffusion_tables(runs)
distance.to_csv(sm.output.distance, index=False)
fits.to_csv(sm.output.fits, index=False)
log.info("distance from initialisation of %d runs; fits:\n%s", len(runs), fits[fits["layer"] == "total"].to_string())
