"""Rule dataset_compressor: fit the compressor of a preset's x_compressor on a dataset's training inputs."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "workflow"))  # noqa: F821

import torch  # noqa: E402
from infoplane import logs  # noqa: E402
from infoplane.compressors import fit_compressor  # noqa: E402
from infoplane.io import load_store  # noqa: E402

sm = snakemake  # noqa: F821
log = logs.to_file(sm.log[0])
torch.set_num_threads(sm.threads)
spec = dict(sm.params.spec)
kind, latent_dim, seed = spec.pop("kind"), spec.pop("latent_dim"), spec.pop("seed", 0)
ds = load_store(sm.input.dataset, "dataset store")
x = ds["x"].values.reshape(ds.sizes["sample"], -1)[ds["is_train"].values]
if kind == "autoencoder":
    spec["log"] = log.info
    if ds["x"].ndim == 3:
        spec.setdefault("image_shape", tuple(ds["x"].shape[1:]))
try:
    compressor = fit_compressor(kind, x, latent_dim, seed=seed, **spec)
except ValueError as err:
    raise ValueError(f"estimators.{sm.wildcards.estimator}.x_compressor: {err}") from None
Path(sm.output[0]).parent.mkdir(parents=True, exist_ok=True)
compressor.save(sm.output[0])
report = {k: v for k, v in compressor.report.items() if k != "history"}
log.info("%s of X for %s on %s: %s", kind, sm.wildcards.estimator, sm.wildcards.dataset, report)
log.info("reconstruction: held-out relative error %.4g (%s)", report["relative_error"],
         "converged" if report["converged"] else "NOT CONVERGED")  # fmt: skip
