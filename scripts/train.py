"""Rule train: train one run, recording weights, metrics and gradient statistics at every capture epoch."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "workflow"))  # noqa: F821

import torch  # noqa: E402
from infoplane import logs  # noqa: E402
from infoplane.estimators import resolve_device  # noqa: E402
from infoplane.io import load_store  # noqa: E402
from infoplane.models import model_for_dataset  # noqa: E402
from infoplane.training import capture_epochs, publish, train  # noqa: E402
from infoplane.training.group import training_config  # noqa: E402
from tqdm import tqdm  # noqa: E402

sm = snakemake  # noqa: F821
log = logs.to_file(sm.log[0])
torch.set_num_threads(sm.threads)
cfg = sm.params.run_config
ds = load_store(sm.input.dataset, "dataset store")
device = resolve_device(sm.params.device)  # auto: CUDA when present, within CUDA_VISIBLE_DEVICES
x = torch.as_tensor(ds["x"].values, dtype=torch.float32, device=device)
y = torch.as_tensor(ds["y"].values, dtype=torch.int64, device=device)
is_train = torch.as_tensor(ds["is_train"].values, device=device)

training = training_config(cfg, int(is_train.sum()))  # the regime (sqrt lr, adaptation) applied
capture = capture_epochs(
    training.epochs, cfg["capture"]["schedule"], cfg["capture"]["n_points"], cfg["capture"]["epochs"]
)
log.info("training %s for %d epochs, %d captures, on %s", cfg["model"], training.epochs, len(capture), device)

torch.manual_seed(training.seed)
model = model_for_dataset(cfg["model"], ds).to(device)
with tqdm(total=training.epochs, file=sys.stderr, mininterval=5, desc="epochs") as bar:
    train(model, x, y, is_train, training, capture, sm.params.work_dir, progress=bar)
publish(sm.params.work_dir, sm.output.weights, sm.output.metrics)
log.info("done")
