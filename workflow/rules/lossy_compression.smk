# The lossy-compression benchmark (Butakov et al. 2024, section 5): estimated against true MI on
# images with known MI, for KSG on raw pixels and PCA/autoencoder codes then KSG/WKL. Not part of `all`:
#   snakemake --cores 2 lossy_compression
# Settings: config key lossy_compression (defaults in the schema, laptop size); the published scale:
#   snakemake lossy_compression --configfile config/paper/lossy_compression.yaml

if "lossy_compression" in EXPERIMENTS:
    print("infoplane: experiments.lossy_compression: the name is reserved for the lossy-compression benchmark; rename the experiment", file=sys.stderr)
    sys.exit(1)

_LC = CONFIG["lossy_compression"]
_LC_DIR = f"{RESULTS}/experiments/lossy_compression"
_LC_COMP = f"{RESULTS}/compressors/lossy_compression"

if workflow.is_main_process:
    from infoplane.benchmarks.lossy_compression import settings_errors

    if _lc_errors := settings_errors(_LC):
        print("infoplane: " + "\ninfoplane: ".join(_lc_errors), file=sys.stderr)
        sys.exit(1)


rule lossy_compression:
    input:
        f"{_LC_DIR}/accuracy.csv",
        f"{_LC_DIR}/claims.csv",
        f"{RESULTS}/figures/lossy_compression/accuracy.png",


# A compressor per (family, source), fitted once on images of one side drawn at MI 0 (the marginal
# law of a side does not depend on the MI) and reused by every MI and seed.
rule lossy_compression_compressor:
    output:
        f"{_LC_COMP}/{{family}}~{{source}}/{{kind}}.pt",
    wildcard_constraints:
        family="gaussian_bumps|rectangles",
        source="gaussian|uniform",
        kind="pca|autoencoder",
    params:
        settings=_LC,
    log:
        f"{RESULTS}/logs/lossy_compression/compressor/{{family}}~{{source}}/{{kind}}.log",
    threads: 1
    conda:
        "../../envs/infoplane.yaml"
    resources:
        mem_mb=2000,
        runtime=30,
    script:
        "../../scripts/lossy_compression_compressor.py"


rule lossy_compression_point:
    input:
        unpack(lambda wc: {k: f"{_LC_COMP}/{wc.family}~{wc.source}/{k}.pt" for k in _LC["compressors"]}),
    output:
        table=f"{_LC_DIR}/points/{{family}}~{{source}}/mi~{{mi}}/seed~{{seed}}.csv",
    wildcard_constraints:
        family="gaussian_bumps|rectangles",
        source="gaussian|uniform",
        mi=r"[0-9.]+",
        seed=r"\d+",
    params:
        settings=_LC,
    log:
        f"{RESULTS}/logs/lossy_compression/point/{{family}}~{{source}}/mi~{{mi}}/seed~{{seed}}.log",
    threads: 1
    conda:
        "../../envs/infoplane.yaml"
    resources:
        mem_mb=3000,
        runtime=30,
    script:
        "../../scripts/lossy_compression_point.py"


rule lossy_compression_table:
    input:
        expand(
            f"{_LC_DIR}/points/{{family}}~{{source}}/mi~{{mi}}/seed~{{seed}}.csv",
            family=_LC["families"], source=_LC["sources"], mi=[f"{float(m):g}" for m in _LC["mi_nats"]], seed=_LC["seeds"],
        ),
    output:
        table=f"{_LC_DIR}/accuracy.csv",
    log:
        f"{RESULTS}/logs/lossy_compression/table.log",
    conda:
        "../../envs/infoplane.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../../scripts/lossy_compression_table.py"


rule lossy_compression_claims:
    input:
        table=f"{_LC_DIR}/accuracy.csv",
    output:
        claims=f"{_LC_DIR}/claims.csv",
    log:
        f"{RESULTS}/logs/lossy_compression/claims.log",
    conda:
        "../../envs/infoplane.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../../scripts/lossy_compression_claims.py"


rule lossy_compression_figure:
    input:
        table=f"{_LC_DIR}/accuracy.csv",
    output:
        png=report(
            f"{RESULTS}/figures/lossy_compression/accuracy.png",
            caption="../report/lossy_compression.rst",
            category="estimators",
            labels={"figure": "lossy_compression"},
        ),
    params:
        figure="figures.lossy_compression:accuracy_figure",
    log:
        f"{RESULTS}/logs/lossy_compression/figure.log",
    conda:
        "../../envs/infoplane.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../../scripts/table_figure.py"
