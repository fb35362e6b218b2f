rule figure:
    input:
        unpack(figure_tables),  # tables a figure reads besides mi and metrics (its `tables`)
        mi=f"{RESULTS}/experiments/{{experiment}}/mi.csv",
        metrics=f"{RESULTS}/experiments/{{experiment}}/metrics.csv",
    output:
        png=report(
            f"{RESULTS}/figures/{{experiment}}/{{figure}}.png",
            caption="../report/figure.rst",
            category="{experiment}",
            labels={"figure": "{figure}"},
        ),
        pdf=f"{RESULTS}/figures/{{experiment}}/{{figure}}.pdf",
    log:
        f"{RESULTS}/logs/figures/{{experiment}}/{{figure}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/figures/{{experiment}}/{{figure}}.tsv",
    conda:
        "../../envs/infoplane.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../../scripts/figure.py"
