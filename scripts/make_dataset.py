"""Rule dataset: build a dataset and write it in the dataset contract."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "workflow"))  # noqa: F821

from infoplane import logs  # noqa: E402
from infoplane.data import build_dataset  # noqa: E402
from infoplane.io import write_new  # noqa: E402

log = logs.to_file(snakemake.log[0])  # noqa: F821
spec = dict(snakemake.params.spec)  # noqa: F821
generator = spec.pop("generator")
ds = build_dataset(generator, **spec)
log.info("dataset %s: %d samples, %d features, %d train", generator, ds.sizes["sample"], ds.sizes["feature"],
         int(ds["is_train"].sum()))
write_new(ds, snakemake.output[0])  # noqa: F821
