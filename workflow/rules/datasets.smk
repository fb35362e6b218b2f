rule dataset:
    output:
        directory(f"{RESULTS}/datasets/{{dataset}}.zarr"),
    params:
        spec=lambda wc: CONFIG["datasets"][wc.dataset],
    log:
        f"{RESULTS}/logs/datasets/{{dataset}}.log",
    conda:
        "../../envs/infoplane.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../../scripts/make_dataset.py"
