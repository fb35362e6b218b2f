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
    threads: 1
    conda:
        "../../envs/infoplane.yaml"
    resources:
        mem_mb=2000,
        runtime=120,
    script:
        "../../scripts/train.py"
