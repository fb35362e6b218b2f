# The reproduction table: every experiment's claims with the scale and the cost (Snakemake's benchmark
# files) of the run that made them (infoplane.analysis.reproductions). Part of `all`.


def reproduction_experiments():
    """Per experiment: config file, scale and claims table, as the table's script reads them."""
    configs = [str(Path(c)) for c in workflow.configfiles] or ["config/config.yaml"]
    out = []
    for name, exp in EXPERIMENTS.items():
        cfgs = [run_config(exp, p) for p in RUNS[name].values()]
        epochs = sorted({int(c["training"]["epochs"]) for c in cfgs if "epochs" in c.get("training", {})})
        out.append({
            "experiment": name,
            "config": ", ".join(configs),
            "runs": len(cfgs),
            "seeds": len({c["training"].get("seed") for c in cfgs}),
            "epochs": "/".join(map(str, epochs)),
            "claims": f"{RESULTS}/experiments/{name}/claims.csv" if exp["claims"]["name"] else None,
        })  # fmt: skip
    return out


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
