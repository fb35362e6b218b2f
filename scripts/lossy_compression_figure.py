"""Rule lossy_compression_figure: estimated against true MI per image family and pipeline."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "workflow"))  # noqa: F821

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import pandas as pd  # noqa: E402
from infoplane import logs  # noqa: E402
from infoplane.figures import save_figure  # noqa: E402
from infoplane.figures.lossy_compression import accuracy_figure  # noqa: E402

sm = snakemake  # noqa: F821
log = logs.to_file(sm.log[0])
fig = accuracy_figure(pd.read_csv(sm.input.table))
Path(sm.output.png).parent.mkdir(parents=True, exist_ok=True)
save_figure(fig, sm.output.png)
log.info("wrote %s", sm.output.png)
