"""Rule lossy_compression_compressor: fit one compressor (PCA or autoencoder) for one image family and source."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "workflow"))  # noqa: F821

import torch  # noqa: E402
from infoplane import logs  # noqa: E402
from infoplane.benchmarks.lossy_compression import fit_family_compressor  # noqa: E402

sm = snakemake  # noqa: F821
log = logs.to_file(sm.log[0])
torch.set_num_threads(sm.threads)
w = sm.wildcards
comp = fit_family_compressor(w.kind, w.family, w.source, sm.params.settings, logger=log)
Path(sm.output[0]).parent.mkdir(parents=True, exist_ok=True)
comp.save(sm.output[0])
report = {k: v for k, v in comp.report.items() if k != "history"}
log.info("%s for %s (%s source): %s", w.kind, w.family, w.source, report)
log.info("reconstruction: held-out relative error %.4g (%s)", report["relative_error"],
         "converged" if report["converged"] else "NOT CONVERGED")  # fmt: skip
