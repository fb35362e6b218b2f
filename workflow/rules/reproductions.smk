# The reproduction table: every experiment's claims with the scale and the cost (Snakemake's benchmark
# files) of the run that made them (infoplane.analysis.reproductions). Part of `all`.


rule reproductions:
    input:
        # every output of every experiment: all their jobs (and benchmark files) exist before the table
        [t for name in EXPERIMENTS for t in experiment_targets(name)],
    output:
        table=report(f"{RESULTS}/reproductions.csv", caption="../report/reproductions.rst", category="reproductions"),
        page=f"{RESULTS}/reproductions.md",
    params:
        experiments=reproduction_experiments(),
        benchmarks=f"{RESULTS}/benchmarks",
    log:
        f"{RESULTS}/logs/reproductions.log",
    conda:
        "../../envs/infoplane.yaml"
    resources:
        mem_mb=500,
        runtime=5,
    script:
        "../../scripts/reproductions.py"
