"""Rules train_group_*: train a group of runs in one job, as one vectorised model where the family allows.

Each run ends with the outputs the rule `train` gives it (weights.zarr, metrics.csv); see
infoplane.training.group for what is shared and the one-at-a-time fallback.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "workflow"))  # noqa: F821

import torch  # noqa: E402
from infoplane import logs  # noqa: E402
from infoplane.estimators import resolve_device  # noqa: E402
from infoplane.io import load_store  # noqa: E402
from infoplane.training import capture_epochs  # noqa: E402
from infoplane.training.group import build_member, publish_group, train_group  # noqa: E402
from tqdm import tqdm  # noqa: E402

sm = snakemake  # noqa: F821
log = logs.to_file(sm.log[0])
torch.set_num_threads(sm.threads)
runs, configs = sm.params.runs, sm.params.run_configs
ds = load_store(sm.input.dataset, "dataset store")
device = resolve_device(sm.params.device)  # auto: CUDA when present, within CUDA_VISIBLE_DEVICES
x = torch.as_tensor(ds["x"].values, dtype=torch.float32, device=device)
y = torch.as_tensor(ds["y"].values, dtype=torch.int64, device=device)
is_train = torch.as_tensor(ds["is_train"].values, device=device)

work_dirs = sm.params.work_dirs
members = [build_member(run, cfg, ds, wd, device) for run, cfg, wd in zip(runs, configs, work_dirs, strict=True)]
# a group shares its training section but the seed, l2 and activation, so its (regime-adapted) epochs too
epochs, first = members[0].cfg.epochs, configs[0]
capture = capture_epochs(epochs, first["capture"]["schedule"], first["capture"]["n_points"], first["capture"]["epochs"])
log.info("group of %d runs (%s ... %s), %d captures, on %s", len(runs), runs[0], runs[-1], len(capture), device)
with tqdm(total=epochs, file=sys.stderr, mininterval=5, desc="epochs") as bar:
    how = train_group(members, x, y, is_train, capture, sm.params.group_dir, [c["training"] for c in configs], bar)
log.info("trained %s", how)
outputs = {run: (w, m) for run, w, m in zip(runs, sm.output.weights, sm.output.metrics, strict=True)}
publish_group(members, sm.params.group_dir, outputs)
log.info("done")
