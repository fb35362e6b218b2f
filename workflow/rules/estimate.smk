rule estimate:
    input:
        unpack(x_compressor_input),
        dataset=dataset_store,
        activations=f"{RESULTS}/runs/{{experiment}}/{{run}}/activations.zarr",
    output:
        table=f"{RESULTS}/runs/{{experiment}}/{{run}}/mi/{{estimator}}.csv",
    params:
        preset=lambda wc: CONFIG["estimators"][wc.estimator],
        device=CONFIG["device"],
        on_nonfinite=CONFIG["on_nonfinite"],
    log:
        f"{RESULTS}/logs/estimate/{{experiment}}/{{run}}/{{estimator}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/estimate/{{experiment}}/{{run}}/{{estimator}}.tsv",
    threads: 1
    group:
        "estimate"
    conda:
        "../../envs/infoplane.yaml"
    resources:
        mem_mb=4000,
        runtime=60,
    script:
        "../../scripts/estimate.py"


# The runs of a training group (GROUPS, common.smk) are estimated in one job with every preset of their
# experiment, one rule per group of 2+, whose outputs are the runs' own tables; a run alone keeps
# `estimate` (a rule without wildcards wins over it), and so does a preset its experiment does not list.
# No `group:`: a group job is already one job's worth of work; SLURM bundles only `estimate` jobs.
for _experiment, _k, _runs, _label in run_groups():
    _estimators = EXPERIMENTS[_experiment]["estimators"]
    if not _estimators:
        continue
    _dataset = run_dataset(_experiment, _runs[0])
    _compressors = {
        f"x_compressor_{e}": x_compressor_path(_dataset, e) for e in _estimators if x_compressor_path(_dataset, e)
    }

    rule:
        name:
            f"estimate_group_{_experiment}_{_k}"
        input:
            **_compressors,
            dataset=f"{RESULTS}/datasets/{_dataset}.zarr",
            activations=[f"{run_dir(_experiment, r)}/activations.zarr" for r in _runs],
        output:
            # run by run, each with every preset (scripts/estimate_group.py reads them in this order)
            tables=[f"{run_dir(_experiment, r)}/mi/{e}.csv" for r in _runs for e in _estimators],
        params:
            experiment=_experiment,
            runs=_runs,
            estimators=_estimators,
            presets={e: CONFIG["estimators"][e] for e in _estimators},
            # each finished table waits here until all are made: a failed job keeps them for its rerun
            staged=[staged_path(_experiment, r, f"mi/{e}.csv") for r in _runs for e in _estimators],
            stage_root=STAGE_ROOT,
            device=CONFIG["device"],
            on_nonfinite=CONFIG["on_nonfinite"],
        log:
            f"{RESULTS}/logs/estimate/{_experiment}/{_label}.log",
        benchmark:
            f"{RESULTS}/benchmarks/estimate/{_experiment}/{_label}.tsv",
        threads: 1
        conda:
            "../../envs/infoplane.yaml"
        resources:
            # one table at a time: one table's memory, the tables' time (`--set-resources estimate:` per table)
            **scaled_resources("estimate", mem_mb=4000, runtime=60, n=len(_runs) * len(_estimators)),
        script:
            "../../scripts/estimate_group.py"


rule aggregate:
    input:
        mi=run_mi_tables,
        metrics=run_metrics_tables,
    output:
        mi=f"{RESULTS}/experiments/{{experiment}}/mi.csv",
        metrics=f"{RESULTS}/experiments/{{experiment}}/metrics.csv",
    params:
        runs=lambda wc: RUNS[wc.experiment],
        estimators=lambda wc: experiment(wc)["estimators"],
        run_configs=lambda wc: {run: run_config(experiment(wc), p) for run, p in RUNS[wc.experiment].items()},
    log:
        f"{RESULTS}/logs/aggregate/{{experiment}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/aggregate/{{experiment}}.tsv",
    conda:
        "../../envs/infoplane.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../../scripts/aggregate.py"


rule claims:
    input:
        unpack(claims_tables),  # tables a claim set reads besides mi and metrics (its `tables`)
        mi=f"{RESULTS}/experiments/{{experiment}}/mi.csv",
        metrics=f"{RESULTS}/experiments/{{experiment}}/metrics.csv",
        dataset=dataset_store,
    output:
        claims=report(
            f"{RESULTS}/experiments/{{experiment}}/claims.csv",
            caption="../report/claims.rst",
            category="{experiment}",
            labels={"table": "claims"},
        ),
    params:
        claims=lambda wc: experiment(wc)["claims"]["name"],
        # none for an experiment without estimators (its claims read other tables)
        estimator=lambda wc: experiment(wc)["claims"]["estimator"] or next(iter(experiment(wc)["estimators"]), None),
    log:
        f"{RESULTS}/logs/claims/{{experiment}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/claims/{{experiment}}.tsv",
    conda:
        "../../envs/infoplane.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../../scripts/claims.py"
