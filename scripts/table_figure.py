"""Rules *_figure that draw one table: params.figure names the function ("module:function" under
infoplane) that turns the table into a figure; params.options are its keyword arguments."""

import importlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "workflow"))  # noqa: F821

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import pandas as pd  # noqa: E402
from infoplane import logs  # noqa: E402
from infoplane.figures import save_figure  # noqa: E402

sm = snakemake  # noqa: F821
log = logs.to_file(sm.log[0])
module, function = sm.params.figure.split(":")
draw = getattr(importlib.import_module(f"infoplane.{module}"), function)
fig = draw(pd.read_csv(sm.input.table), **dict(sm.params.get("options", {})))
Path(sm.output.png).parent.mkdir(parents=True, exist_ok=True)
save_figure(fig, sm.output.png)
log.info("wrote %s with %s", sm.output.png, sm.params.figure)
