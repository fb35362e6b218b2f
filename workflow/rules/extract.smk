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
    threads: 1
    conda:
        "../../envs/infoplane.yaml"
    resources:
        mem_mb=4000,
        runtime=30,
    script:
        "../../scripts/extract.py"
