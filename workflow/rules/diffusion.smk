# Weight diffusion (Hoffer et al. 2017): the distance of every run's weights from their initialisation
# against the number of updates, and its log / sqrt / linear fits over the first learning-rate phase.
# Built only when a claim set or figure of the experiment reads these tables (their `tables`).


rule diffusion:
    input:
        weights=run_weights,
        dataset=dataset_store,
    output:
        distance=f"{RESULTS}/experiments/{{experiment}}/distance.csv",
        fits=f"{RESULTS}/experiments/{{experiment}}/diffusion.csv",
    params:
        runs=lambda wc: RUNS[wc.experiment],
        run_configs=lambda wc: {run: run_config(experiment(wc), p) for run, p in RUNS[wc.experiment].items()},
    log:
        f"{RESULTS}/logs/diffusion/{{experiment}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/diffusion/{{experiment}}.tsv",
    conda:
        "../../envs/infoplane.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../../scripts/diffusion.py"
