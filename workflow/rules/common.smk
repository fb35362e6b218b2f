# Everything that is not a rule: config validation, sweep expansion, input functions.

import sys
from pathlib import Path

# The checkout this file belongs to (not workflow.basedir: as a Snakemake module, that is the user's project).
INFOPLANE_ROOT = Path(str(workflow.current_basedir)).parents[1]
sys.path.insert(0, str(INFOPLANE_ROOT / "workflow"))

from infoplane.config import ConfigError, expand_runs, run_config, validate_config

try:
    CONFIG = validate_config(config, INFOPLANE_ROOT / "workflow/schemas/config.schema.yaml")
except ConfigError as err:
    # One clear message and a non-zero exit before any job runs; no traceback.
    print(f"infoplane: {err}", file=sys.stderr)
    sys.exit(1)

# A killed run leaves Snakemake's lock behind, and this run may stop on a LockException: where no
# Snakemake runs in this directory any more, say so in one line with the command that removes it.
# Nothing is removed here, and jobs (not the main process) and `--unlock` itself skip the check.
if workflow.is_main_process and "--unlock" not in sys.argv:
    from infoplane.locks import stale_lock_message

    # this run's own arguments with --unlock: the same Snakefile, config and directory
    if _stale := stale_lock_message(".", argv=sys.argv[1:]):
        print(f"infoplane: {_stale}", file=sys.stderr)

EXPERIMENTS = CONFIG["experiments"]
RUNS = {name: expand_runs(exp) for name, exp in EXPERIMENTS.items()}
RESULTS = "results"


wildcard_constraints:
    # variational_limits and lossy_compression are benchmark folders (their .smk files), not experiments
    experiment=r"(?!variational_limits\b|lossy_compression\b)[A-Za-z0-9_]+",
    dataset=r"[A-Za-z0-9_]+",
    estimator=r"[A-Za-z0-9_]+",
    figure=r"[A-Za-z0-9_]+",
    # a run is key~value parts joined by slashes, so it can never climb out of results
    run=r"[A-Za-z0-9_]+~[A-Za-z0-9_.+-]+(/[A-Za-z0-9_]+~[A-Za-z0-9_.+-]+)*",


def experiment(wildcards):
    if wildcards.experiment not in EXPERIMENTS:
        raise WorkflowError(f"unknown experiment {wildcards.experiment!r}; configured: {sorted(EXPERIMENTS)}")
    return EXPERIMENTS[wildcards.experiment]


def sweep_point(wildcards):
    runs = RUNS[wildcards.experiment]
    if wildcards.run not in runs:
        raise WorkflowError(f"run {wildcards.run!r} is not in the sweep of {wildcards.experiment!r}")
    return runs[wildcards.run]


def dataset_store(wildcards):
    name = experiment(wildcards)["dataset"]
    if "run" in wildcards.keys():  # a run may sweep over data draws: sweep key dataset
        name = sweep_point(wildcards).get("dataset", name)
    return f"{RESULTS}/datasets/{name}.zarr"


def x_compressor_path(dataset_name, estimator):
    """The compressor of X that preset ``estimator`` fits once on dataset ``dataset_name`` (rules/compressors.smk),
    or None when the preset does not compress X. Presets whose x_compressor specs are equal share one file."""
    spec = CONFIG["estimators"][estimator].get("x_compressor")
    if not spec:
        return None
    # presets with the same compressor spec share one fit: the first of them by name owns the file
    owner = min(name for name, preset in CONFIG["estimators"].items() if preset.get("x_compressor") == spec)
    return f"{RESULTS}/compressors/{dataset_name}/x_for_{owner}.pt"


def x_compressor_input(wildcards):
    """{x_compressor: path} when the estimator preset compresses X once (rules/compressors.smk), else {}."""
    path = x_compressor_path(Path(dataset_store(wildcards)).stem, wildcards.estimator)
    return {} if path is None else {"x_compressor": path}


def experiment_tables(names, experiment_name):
    """{name: path} of per-experiment tables (e.g. generalisation) that a claim set or figure reads."""
    return {name: f"{RESULTS}/experiments/{experiment_name}/{name}.csv" for name in names}


def claims_tables(wildcards):
    from infoplane.claims import CLAIMS

    fn = CLAIMS.get(experiment(wildcards)["claims"]["name"])
    return experiment_tables(getattr(fn, "tables", ()), wildcards.experiment)


def figure_tables(wildcards):
    from infoplane.figures import FIGURES

    return experiment_tables(getattr(FIGURES.get(wildcards.figure), "tables", ()), wildcards.experiment)


def run_weights(wildcards):
    return [f"{run_dir(wildcards.experiment, run)}/weights.zarr" for run in RUNS[wildcards.experiment]]


def run_dir(experiment_name, run):
    return f"{RESULTS}/runs/{experiment_name}/{run}"


def run_mi_tables(wildcards):
    exp = experiment(wildcards)
    return [
        f"{run_dir(wildcards.experiment, run)}/mi/{est}.csv" for run in RUNS[wildcards.experiment] for est in exp["estimators"]
    ]


def run_metrics_tables(wildcards):
    return [f"{run_dir(wildcards.experiment, run)}/metrics.csv" for run in RUNS[wildcards.experiment]]


def experiment_targets(name):
    exp = EXPERIMENTS[name]
    targets = [f"{RESULTS}/experiments/{name}/mi.csv"]
    if exp["claims"]["name"]:
        targets.append(f"{RESULTS}/experiments/{name}/claims.csv")
    targets += [f"{RESULTS}/figures/{name}/{fig}.png" for fig in exp["figures"]]
    return targets


def all_targets():
    return [t for name in EXPERIMENTS for t in experiment_targets(name)]


# ---------------------------------------------------------------------------------------------
# Groups of runs: the runs that train together (infoplane.training.group.plan_groups, at most
# `training_group_size`) are also extracted and estimated together, one job per stage and group.
# Planned once here; rules/train.smk, extract.smk and estimate.smk generate one rule per group of 2+.
# ---------------------------------------------------------------------------------------------
from infoplane.training.group import plan_groups


def run_dataset(experiment_name, run):
    """The dataset store's name of a run: the experiment's, or the run's data draw (sweep key dataset)."""
    return RUNS[experiment_name][run].get("dataset", EXPERIMENTS[experiment_name]["dataset"])


def _plan_groups(name):
    exp, points = EXPERIMENTS[name], RUNS[name]
    return plan_groups(
        {r: run_config(exp, p) for r, p in points.items()},
        CONFIG["training_group_size"],
        {r: run_dataset(name, r) for r in points},  # a data draw is another input
    )


GROUPS = {name: _plan_groups(name) for name in EXPERIMENTS}


def run_groups():
    """(experiment, k, runs, label) of every group of 2+ runs; the label names the group in logs and
    checkpoints: its first run and how many more (activation~tanh/seed~0+49)."""
    for name, groups in GROUPS.items():
        for k, runs in enumerate(groups):
            if len(runs) > 1:
                yield name, k, runs, f"{runs[0]}+{len(runs) - 1}"


# A group job builds each output under here first (outside its declared outputs, which Snakemake
# deletes when a job fails) and moves them into place when all are made (infoplane.io.staging).
# results/checkpoints/{experiment}/{run} is training's: a run name's first part always holds a "~",
# an experiment name never, so results/checkpoints/staged/{experiment}/... cannot meet it.
STAGE_ROOT = f"{RESULTS}/checkpoints"


def staged_path(experiment_name, run, rel):
    return f"{STAGE_ROOT}/staged/{experiment_name}/{run}/{rel}"


def resource_overrides(rule_name):
    """What `--set-resources <rule_name>:...` (e.g. a profile's gpu) asks of a rule: for its group rules
    too, which have names of their own. Values as given (a profile's arrive as Resource objects)."""
    return {
        name: getattr(value, "raw", value)
        for name, value in workflow.resource_settings.overwrite_resources.get(rule_name, {}).items()
    }


MAX_GROUP_RUNTIME = 24 * 60  # minutes: a day, the longest many clusters' partitions allow


def scaled_resources(rule_name, mem_mb, runtime, n, mem_per_member=20):
    """Resources of a group job of ``n`` members of rule ``rule_name``, which run one after another.

    ``mem_mb``/``runtime``: one member's (the rule's own, or `--set-resources <rule_name>:mem_mb/runtime`,
    read as one member's); the group asks for one member's memory plus ``mem_per_member`` MB each for
    bookkeeping, and for the members' runtimes summed, up to ``MAX_GROUP_RUNTIME`` minutes (the sum
    of generous per-member limits would exceed what clusters allow; a group stopped by its time limit
    keeps its finished members staged, and the rerun goes on from them). Other overrides (gpu,
    partition) apply as given.
    """
    overrides = workflow.resource_settings.overwrite_resources.get(rule_name, {})

    def per_member(name, default):
        value = getattr(overrides.get(name), "value", None) if name in overrides else None
        return value if isinstance(value, int) else default

    return resource_overrides(rule_name) | {
        "mem_mb": per_member("mem_mb", mem_mb) + mem_per_member * n,
        "runtime": min(per_member("runtime", runtime) * n, MAX_GROUP_RUNTIME),
    }


# The reproduction table (rules/reproductions.smk).
def reproduction_experiments():
    """Per experiment: config file, scale and claims table, as the table's script reads them."""
    configs = [str(Path(c)) for c in workflow.configfiles] or ["config/config.yaml"]
    out = []
    for name, exp in EXPERIMENTS.items():
        cfgs = [run_config(exp, p) for p in RUNS[name].values()]
        epochs = sorted({int(c["training"]["epochs"]) for c in cfgs if "epochs" in c.get("training", {})})
        out.append({
            "experiment": name,
            "config": ", ".join(configs),
            "runs": len(cfgs),
            "seeds": len({c["training"].get("seed") for c in cfgs}),
            "epochs": "/".join(map(str, epochs)),
            "claims": f"{RESULTS}/experiments/{name}/claims.csv" if exp["claims"]["name"] else None,
        })  # fmt: skip
    return out
