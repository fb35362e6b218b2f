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
    conda:
        "../../envs/infoplane.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../../scripts/claims.py"
