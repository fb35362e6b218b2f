"""Rule extract: replay the weight trajectory on the dataset and write every layer's activations."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "workflow"))  # noqa: F821

import torch  # noqa: E402
from infoplane import logs  # noqa: E402
from infoplane.extraction import RunToExtract, extract_runs  # noqa: E402

sm = snakemake  # noqa: F821
log = logs.to_file(sm.log[0])
torch.set_num_threads(sm.threads)
run = RunToExtract(f"{sm.wildcards.experiment}/{sm.wildcards.run}", sm.params.run_config, sm.input.weights,
                   sm.output.activations)  # fmt: skip
extract_runs(sm.input.dataset, [run], log)
