rule train:
    input:
        dataset=dataset_store,
    output:
        weights=directory(f"{RESULTS}/runs/{{experiment}}/{{run}}/weights.zarr"),
        metrics=f"{RESULTS}/runs/{{experiment}}/{{run}}/metrics.csv",
    params:
        run_config=lambda wc: run_config(experiment(wc), sweep_point(wc)),
        # resumable state lives outside the declared outputs, so a failed job does not delete it
        work_dir=lambda wc: f"{RESULTS}/checkpoints/{wc.experiment}/{wc.run}",
        device=CONFIG["device"],
    log:
        f"{RESULTS}/logs/train/{{experiment}}/{{run}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/train/{{experiment}}/{{run}}.tsv",
    threads: 1
    conda:
        "../../envs/infoplane.yaml"
    resources:
        mem_mb=2000,
        runtime=120,
    script:
        "../../scripts/train.py"


# Group training: the runs of an experiment that may train together (GROUPS, common.smk: at most
# `training_group_size`) train in one job, one rule per group, whose outputs are the runs' own files;
# a run alone in its group is trained by `train` above (a rule without wildcards wins over it).
from infoplane.training.group import vectorisable

# what `--set-resources train:...` (e.g. the slurm profile's gpu) asks of training jobs, for the group
# rules too (they have names of their own). `--groups` is not known while rules are defined: see docs/cluster.md.
_TRAIN_RESOURCES = resource_overrides("train")

for _experiment, _k, _runs, _label in run_groups():
    _exp, _points = EXPERIMENTS[_experiment], RUNS[_experiment]
    _vectorised = vectorisable(run_config(_exp, _points[_runs[0]]))
    # a run alone may take `train`'s 120 minutes; ten vectorised runs about as long as two alone
    _resources = {
        "mem_mb": 2000 + 20 * len(_runs),
        "runtime": 120 * (-(-len(_runs) // 10) if _vectorised else len(_runs)),
    } | _TRAIN_RESOURCES

    rule:
        name:
            f"train_group_{_experiment}_{_k}"
        input:
            dataset=f"{RESULTS}/datasets/{run_dataset(_experiment, _runs[0])}.zarr",
        output:
            weights=[directory(f"{run_dir(_experiment, r)}/weights.zarr") for r in _runs],
            metrics=[f"{run_dir(_experiment, r)}/metrics.csv" for r in _runs],
        params:
            runs=_runs,
            run_configs=[run_config(_exp, _points[r]) for r in _runs],
            work_dirs=[f"{RESULTS}/checkpoints/{_experiment}/{r}" for r in _runs],
            group_dir=f"{RESULTS}/checkpoints/{_experiment}/{_label}",
            device=CONFIG["device"],
        log:
            f"{RESULTS}/logs/train/{_experiment}/{_label}.log",
        benchmark:
            f"{RESULTS}/benchmarks/train/{_experiment}/{_label}.tsv",
        threads: 1
        conda:
            "../../envs/infoplane.yaml"
        resources:
            **_resources,
        script:
            "../../scripts/train_group.py"
