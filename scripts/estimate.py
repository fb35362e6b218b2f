"""Rule estimate: the MI table of one run with one estimator preset."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "workflow"))  # noqa: F821

import numpy as np  # noqa: E402
import torch  # noqa: E402
from infoplane import logs  # noqa: E402
from infoplane.analysis import run_mi_table  # noqa: E402
from infoplane.io import load_store  # noqa: E402

sm = snakemake  # noqa: F821
log = logs.to_file(sm.log[0])
torch.set_num_threads(sm.threads)
preset = dict(sm.params.preset)
method = preset.pop("method")
run = f"{sm.wildcards.experiment}/{sm.wildcards.run}"
dataset = load_store(sm.input.dataset, "dataset store")
activations = load_store(sm.input.activations, "activations store")
rows = preset.pop("rows", "all")  # X uniform over these rows of the dataset: all, train or test
if rows != "all":
    keep = np.flatnonzero(dataset["is_train"].values == (rows == "train"))
    dataset, activations = dataset.isel(sample=keep), activations.isel(sample=keep)
    log.info("estimating on the %d %s rows", len(keep), rows)
inputs = None
if preset.pop("x_compressor", None) is not None:  # X as the codes of a compressor fitted once (its own artifact)
    from infoplane.compressors import load_compressor

    compressor = load_compressor(sm.input.x_compressor)
    inputs = compressor.encode(dataset["x"].values.reshape(dataset.sizes["sample"], -1)).numpy()
    log.info("X compressed by %s (%s): %s", sm.input.x_compressor, compressor.report["kind"],
             {k: v for k, v in compressor.report.items() if k != "history"})  # fmt: skip
    if not compressor.report["converged"]:
        log.warning("the compressor of X did not converge: I(X;T) is estimated through a poor reconstruction")
table = run_mi_table(
    activations,
    dataset,
    method, preset, device=sm.params.device, run=run, on_nonfinite=sm.params.on_nonfinite, log=log, inputs=inputs,
)  # fmt: skip
table.to_csv(sm.output.table, index=False)
log.info("%s with %s: %d rows in %.2f s", run, sm.wildcards.estimator, len(table), table["seconds"].sum())
