# Compressors as a stage of their own: fitted once per (dataset, estimator preset) on the dataset's
# training rows and reused by every run's estimate that names the preset (preset key x_compressor);
# presets with equal specs share the file of the first of them by name (common.smk: x_compressor_path).


rule dataset_compressor:
    input:
        dataset=f"{RESULTS}/datasets/{{dataset}}.zarr",
    output:
        f"{RESULTS}/compressors/{{dataset}}/x_for_{{estimator}}.pt",
    params:
        spec=lambda wc: CONFIG["estimators"][wc.estimator]["x_compressor"],
    log:
        f"{RESULTS}/logs/compressors/{{dataset}}/x_for_{{estimator}}.log",
    threads: 1
    conda:
        "../../envs/infoplane.yaml"
    resources:
        mem_mb=2000,
        runtime=30,
    script:
        "../../scripts/dataset_compressor.py"
