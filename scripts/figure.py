"""Rule figure: draw one registered figure of an experiment."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "workflow"))  # noqa: F821

import pandas as pd  # noqa: E402
from infoplane import logs  # noqa: E402
from infoplane.figures import FIGURES, save_figure  # noqa: E402

sm = snakemake  # noqa: F821
log = logs.to_file(sm.log[0])
draw = FIGURES[sm.wildcards.figure]
tables = {name: pd.read_csv(sm.input[name]) for name in getattr(draw, "tables", ())}  # e.g. generalisation
fig = draw(pd.read_csv(sm.input.mi), pd.read_csv(sm.input.metrics), **tables)
save_figure(fig, sm.output.png, sm.output.pdf)
log.info("drew %s", sm.output.png)
