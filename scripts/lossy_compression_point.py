"""Rule lossy_compression_point: every pipeline on one draw of (family, source, MI, seed)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "workflow"))  # noqa: F821

import torch  # noqa: E402
from infoplane import logs  # noqa: E402
from infoplane.benchmarks.lossy_compression import run_point  # noqa: E402
from infoplane.compressors import load_compressor  # noqa: E402

sm = snakemake  # noqa: F821
log = logs.to_file(sm.log[0])
torch.set_num_threads(sm.threads)
w = sm.wildcards
compressors = {kind: load_compressor(sm.input[kind]) for kind in sm.params.settings["compressors"]}
for kind, c in compressors.items():
    if not c.report["converged"]:
        log.warning("the %s compressor did not converge (relative error %.3g): its rows say so", kind,
                    c.report["relative_error"])  # fmt: skip
table = run_point(w.family, w.source, float(w.mi), int(w.seed), compressors, sm.params.settings)
Path(sm.output.table).parent.mkdir(parents=True, exist_ok=True)
table.to_csv(sm.output.table, index=False)
log.info("wrote %d rows to %s", len(table), sm.output.table)
