rule extract:
    input:
        dataset=dataset_store,
        weights=f"{RESULTS}/runs/{{experiment}}/{{run}}/weights.zarr",
    output:
        activations=directory(f"{RESULTS}/runs/{{experiment}}/{{run}}/activations.zarr"),
    params:
        run_config=lambda wc: run_config(experiment(wc), sweep_point(wc)),
    log:
        f"{RESULTS}/logs/extract/{{experiment}}/{{run}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/extract/{{experiment}}/{{run}}.tsv",
    threads: 1
    conda:
        "../../envs/infoplane.yaml"
    resources:
        mem_mb=4000,
        runtime=30,
    script:
        "../../scripts/extract.py"


# The runs of a training group (GROUPS, common.smk) are extracted in one job, one rule per group of 2+,
# whose outputs are the runs' own stores; a run alone keeps `extract` (a rule without wildcards wins over it).
for _experiment, _k, _runs, _label in run_groups():

    rule:
        name:
            f"extract_group_{_experiment}_{_k}"
        input:
            dataset=f"{RESULTS}/datasets/{run_dataset(_experiment, _runs[0])}.zarr",
            weights=[f"{run_dir(_experiment, r)}/weights.zarr" for r in _runs],
        output:
            activations=[directory(f"{run_dir(_experiment, r)}/activations.zarr") for r in _runs],
        params:
            experiment=_experiment,
            runs=_runs,
            run_configs=[run_config(EXPERIMENTS[_experiment], RUNS[_experiment][r]) for r in _runs],
            # each finished store waits here until all are made: a failed job keeps them for its rerun
            staged=[staged_path(_experiment, r, "activations.zarr") for r in _runs],
            stage_root=STAGE_ROOT,
        log:
            f"{RESULTS}/logs/extract/{_experiment}/{_label}.log",
        benchmark:
            f"{RESULTS}/benchmarks/extract/{_experiment}/{_label}.tsv",
        threads: 1
        conda:
            "../../envs/infoplane.yaml"
        resources:
            # one run at a time: one run's memory, the runs' time (`--set-resources extract:` per run)
            **scaled_resources("extract", mem_mb=4000, runtime=30, n=len(_runs)),
        script:
            "../../scripts/extract_group.py"
