"""Rule extract: replay the weight trajectory on the dataset and write every layer's activations."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "workflow"))  # noqa: F821

import torch  # noqa: E402
from infoplane import logs  # noqa: E402
from infoplane.extraction import activations, write_activations  # noqa: E402
from infoplane.io import load_store  # noqa: E402
from infoplane.models import model_for_dataset  # noqa: E402
from tqdm import tqdm  # noqa: E402

sm = snakemake  # noqa: F821
log = logs.to_file(sm.log[0])
torch.set_num_threads(sm.threads)
cfg = sm.params.run_config
ds = load_store(sm.input.dataset, "dataset store")
weights = load_store(sm.input.weights, "weights store")
x = torch.as_tensor(ds["x"].values, dtype=torch.float32)
model = model_for_dataset(cfg["model"], ds)
with tqdm(total=weights.sizes["epoch"], file=sys.stderr, mininterval=5, desc="epochs") as bar:
    acts = activations(model, weights, x, progress=bar)
write_activations(acts, sm.output.activations)
log.info("wrote %d epochs x %d layers", acts.sizes["epoch"], len(acts.data_vars))
