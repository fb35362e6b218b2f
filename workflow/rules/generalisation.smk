# Information bottleneck and generalisation (Kawaguchi et al. 2023): one row per run, built only
# when a claim set or figure of the experiment reads it (their `tables`).


rule generalisation:
    input:
        mi=f"{RESULTS}/experiments/{{experiment}}/mi.csv",
        metrics=f"{RESULTS}/experiments/{{experiment}}/metrics.csv",
        weights=run_weights,
    output:
        table=f"{RESULTS}/experiments/{{experiment}}/generalisation.csv",
    params:
        runs=lambda wc: list(RUNS[wc.experiment]),
        estimator=lambda wc: experiment(wc)["claims"]["estimator"] or experiment(wc)["estimators"][0],
    log:
        f"{RESULTS}/logs/generalisation/{{experiment}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/generalisation/{{experiment}}.tsv",
    conda:
        "../../envs/infoplane.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../../scripts/generalisation.py"
