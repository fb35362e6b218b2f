# The variational limits (Song & Ermon 2020): the staircase benchmark. Not part of `all`; run it with
#   snakemake --cores 2 variational_limits
# Settings: config key variational_limits (defaults in the schema, laptop size); the published
# scale: snakemake variational_limits --configfile config/paper/variational_limits.yaml
# (the target first: --configfile takes every word after it)

if "variational_limits" in EXPERIMENTS:
    # its folder results/experiments/variational_limits/ belongs to this benchmark
    print("infoplane: experiments.variational_limits: the name is reserved for the staircase benchmark; rename the experiment", file=sys.stderr)
    sys.exit(1)

_VL = CONFIG["variational_limits"]
_VL_DIR = f"{RESULTS}/experiments/variational_limits"
_VL_RUN_KEYS = ["stages_nats", "steps_per_stage", "batch_size", "dim", "smile_taus", "hidden", "layers", "embed", "lr", "ma_rate", "device"]


rule variational_limits:
    input:
        f"{_VL_DIR}/estimates.csv",
        f"{_VL_DIR}/claims.csv",
        f"{RESULTS}/figures/variational_limits/staircase.png",


# One job per (transform, seed): every method and critic on the same batches; jobs run side by side.
rule variational_limits_run:
    output:
        table=f"{_VL_DIR}/runs/{{vl_transform}}/seed~{{vl_seed}}.csv",
    wildcard_constraints:
        vl_transform="gaussian|cubic",
        vl_seed=r"\d+",
    params:
        methods=_VL["methods"],
        critics=_VL["critics"],
        settings={key: _VL[key] for key in _VL_RUN_KEYS},
    log:
        f"{RESULTS}/logs/variational_limits/run/{{vl_transform}}/seed~{{vl_seed}}.log",
    threads: 1
    conda:
        "../../envs/infoplane.yaml"
    resources:
        mem_mb=2000,
        runtime=60,
    script:
        "../../scripts/variational_limits_run.py"


rule variational_limits_table:
    input:
        expand(f"{_VL_DIR}/runs/{{t}}/seed~{{s}}.csv", t=_VL["transforms"], s=_VL["seeds"]),
    output:
        table=f"{_VL_DIR}/estimates.csv",
    log:
        f"{RESULTS}/logs/variational_limits/table.log",
    conda:
        "../../envs/infoplane.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../../scripts/variational_limits_table.py"


rule variational_limits_claims:
    input:
        table=f"{_VL_DIR}/estimates.csv",
    output:
        claims=f"{_VL_DIR}/claims.csv",
        variance=f"{_VL_DIR}/stage_variance.csv",
    params:
        variance_fraction=_VL["variance_fraction"],
    log:
        f"{RESULTS}/logs/variational_limits/claims.log",
    conda:
        "../../envs/infoplane.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../../scripts/variational_limits_claims.py"


rule variational_limits_figure:
    input:
        table=f"{_VL_DIR}/estimates.csv",
    output:
        png=report(
            f"{RESULTS}/figures/variational_limits/staircase.png",
            caption="../report/staircase.rst",
            category="estimators",
            labels={"figure": "staircase"},
        ),
    params:
        figure="figures.staircase:staircase_figure",
        options={"smoothing": _VL["smoothing"]},
    log:
        f"{RESULTS}/logs/variational_limits/figure.log",
    conda:
        "../../envs/infoplane.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../../scripts/table_figure.py"
