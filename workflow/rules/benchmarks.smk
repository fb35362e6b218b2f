# Benchmarks: tables of measured speed, built only when asked for (not part of `all`).


rule benchmark_binning:
    output:
        f"{RESULTS}/benchmarks/binning_speed.csv",
    params:
        module="binning_speed",
        epochs=274,
        repeats=5,
    log:
        f"{RESULTS}/logs/benchmarks/binning_speed.log",
    threads: 2
    conda:
        "../../envs/infoplane.yaml"
    resources:
        mem_mb=4000,
        runtime=10,
    script:
        "../../scripts/benchmark.py"


rule benchmark_kde:
    output:
        f"{RESULTS}/benchmarks/kde_speed.csv",
    params:
        module="kde_speed",
        epochs=10,  # the direct formula takes about a second per epoch and layer
        repeats=2,
    log:
        f"{RESULTS}/logs/benchmarks/kde_speed.log",
    threads: 2
    conda:
        "../../envs/infoplane.yaml"
    resources:
        mem_mb=4000,
        runtime=30,
    script:
        "../../scripts/benchmark.py"


rule benchmark_training:
    output:
        f"{RESULTS}/benchmarks/training_speed.csv",
    params:
        module="training_speed",
        epochs=200,
        repeats=2,
    log:
        f"{RESULTS}/logs/benchmarks/training_speed.log",
    threads: 1  # as a training job: one thread each, so two jobs share two cores
    conda:
        "../../envs/infoplane.yaml"
    resources:
        mem_mb=4000,
        runtime=20,
    script:
        "../../scripts/benchmark.py"


# infoplane's KSG (k=5, max-norm) beside bmi's and a plain float loop, with throughput against the
# CPU's measured peak. bmi runs in its own interpreter (config ksg_benchmark: bmi_python); without it
# the bmi columns are empty, with a note. quick=True: n=1000 only.
rule benchmark_ksg:
    output:
        f"{RESULTS}/benchmarks/ksg_speed.csv",
    params:
        sizes=[1000, 5000, 20000],
        dims=[2, 10, 25, 100],
        repeats=3,
        quick=False,
        bmi_python=CONFIG["ksg_benchmark"]["bmi_python"],
    log:
        f"{RESULTS}/logs/benchmarks/ksg_speed.log",
    threads: 2
    conda:
        "../../envs/infoplane.yaml"
    resources:
        mem_mb=8000,
        runtime=120,  # bmi and the float loop at n=20,000 and 100+100 take minutes each
    script:
        "../../scripts/ksg_speed.py"


# Every estimator on CPU and on CUDA, compared, and the GPU paths timed; CUDA rows say "skipped" without a GPU.
# The same as `python -m infoplane.benchmarks.gpu_check --out results/benchmarks/gpu_check.csv`.
rule gpu_check:
    output:
        f"{RESULTS}/benchmarks/gpu_check.csv",
    params:
        quick=False,
        seed=0,
    log:
        f"{RESULTS}/logs/benchmarks/gpu_check.log",
    threads: 1  # the CPU side as a training job: one thread
    conda:
        "../../envs/infoplane.yaml"
    resources:
        mem_mb=8000,
        runtime=15,
        gpu=1,
    script:
        "../../scripts/gpu_check.py"
