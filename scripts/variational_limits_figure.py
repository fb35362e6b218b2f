"""Rule variational_limits_figure: the staircase figure of Song & Ermon (2020)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "workflow"))  # noqa: F821

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import pandas as pd  # noqa: E402
from infoplane import logs  # noqa: E402
from infoplane.figures import save_figure  # noqa: E402
from infoplane.figures.staircase import staircase_figure  # noqa: E402

sm = snakemake  # noqa: F821
log = logs.to_file(sm.log[0])
fig = staircase_figure(pd.read_csv(sm.input.table), smoothing=sm.params.smoothing)
Path(sm.output.png).parent.mkdir(parents=True, exist_ok=True)
save_figure(fig, sm.output.png)
log.info("wrote %s", sm.output.png)
