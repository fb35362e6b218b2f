"""Rules benchmark_*: run one benchmark module of infoplane.benchmarks and write its table of seconds."""

import importlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "workflow"))  # noqa: F821

import torch  # noqa: E402
from infoplane import logs  # noqa: E402

sm = snakemake  # noqa: F821
log = logs.to_file(sm.log[0])
torch.set_num_threads(sm.threads)
benchmark = importlib.import_module(f"infoplane.benchmarks.{sm.params.module}")
table = benchmark.run(n_epochs=sm.params.epochs, repeats=sm.params.repeats)
table.to_csv(sm.output[0], index=False)
log.info("\n%s", table.to_string())
