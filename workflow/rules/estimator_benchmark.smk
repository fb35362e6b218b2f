# The estimator benchmark: accuracy against closed-form MI, and speed. Settings come from
# config["estimator_benchmark"]; every key has a default here, sized for ~1-2 minutes on 2 CPU cores.

_EB_DEFAULTS = {
    "tasks": {
        "gaussian_1+1": {"task": "gaussian", "dim_x": 1, "dim_y": 1, "mi_bits": 1.0},
        "gaussian_5+5": {"task": "gaussian", "dim_x": 5, "dim_y": 5, "mi_bits": 1.0},
        "asinh_2+2": {"task": "asinh", "dim_x": 2, "dim_y": 2, "mi_bits": 1.0},
        "student_t_1+1": {"task": "student_t", "dim_x": 1, "dim_y": 1, "gaussian_mi_bits": 0.5, "dof": 3},
        "additive_uniform_1": {"task": "additive_uniform", "dim": 1, "width": 0.5},
    },
    "estimators": {
        "ksg": {"method": "ksg", "k": 3},
        "gaussian": {"method": "gaussian"},
        "pca_ksg": {"method": "pca_ksg", "components": 2},
        "infonce": {"method": "infonce", "steps": 150},
    },
    "sample_sizes": [500, 1000],
    "seeds": [0, 1, 2],
    "ci_resamples": 10,
    "ci_seeds": 3,
    "device": "auto",
    "speed": {
        "methods": {
            "ksg": {"method": "ksg", "k": 3},
            # An explicit chunk_size keeps the float blockwise path (the int16-screened one is the
            # CPU default for max-norm marginals): same estimate, for comparison.
            "ksg_blockwise": {"method": "ksg", "k": 3, "chunk_size": 104},
            "ksg_euclidean": {"method": "ksg", "k": 3, "metric": "euclidean"},
            "gaussian": {"method": "gaussian"},
            "renyi": {"method": "renyi", "alpha": 2.0},
        },
        "sample_sizes": [1000, 5000],
        "dims": [1, 25],
        "references": ["sklearn", "ckdtree"],
        "repeats": 3,
    },
}
_EB = {**_EB_DEFAULTS, **config.get("estimator_benchmark", {})}
_EB_SPEED = {**_EB_DEFAULTS["speed"], **_EB.get("speed", {})}


rule estimator_accuracy:
    output:
        table="results/experiments/estimators/accuracy.csv",
    params:
        tasks=_EB["tasks"],
        estimators=_EB["estimators"],
        sample_sizes=_EB["sample_sizes"],
        seeds=_EB["seeds"],
        ci_resamples=_EB["ci_resamples"],
        ci_seeds=_EB["ci_seeds"],
        device=_EB["device"],
    log:
        "results/logs/estimator_benchmark/accuracy.log",
    threads: 2
    conda:
        "../../envs/infoplane.yaml"
    resources:
        mem_mb=4000,
        runtime=30,
    script:
        "../../scripts/estimator_accuracy.py"


rule estimator_accuracy_figure:
    input:
        table="results/experiments/estimators/accuracy.csv",
    output:
        png=report(
            "results/figures/estimators/accuracy.png",
            caption="../report/accuracy.rst",
            category="estimators",
            labels={"figure": "accuracy"},
        ),
    params:
        figure="benchmarks.accuracy:accuracy_figure",
    log:
        "results/logs/estimator_benchmark/accuracy_figure.log",
    conda:
        "../../envs/infoplane.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../../scripts/table_figure.py"


rule estimator_speed:
    output:
        table="results/benchmarks/estimators_speed.csv",
    params:
        methods=_EB_SPEED["methods"],
        sample_sizes=_EB_SPEED["sample_sizes"],
        dims=_EB_SPEED["dims"],
        references=_EB_SPEED["references"],
        repeats=_EB_SPEED["repeats"],
        device=_EB["device"],
    log:
        "results/logs/estimator_benchmark/speed.log",
    threads: 2
    conda:
        "../../envs/infoplane.yaml"
    resources:
        mem_mb=4000,
        runtime=30,
    script:
        "../../scripts/estimator_speed.py"


# The known-MI suite (infoplane.tasks.suite, 40 tasks of Czyz et al. 2023) x estimator presets. Not part of `all`.
# Its size is config["estimator_benchmark"]["suite"]: n (5000 is the published criterion), seeds, tasks (null: all).
_EB_SUITE = {
    "n": 5000,
    "seeds": [0],
    "tasks": None,
    "estimators": {
        "ksg": {"method": "ksg", "k": 3},
        "ksg_copula": {"method": "ksg", "k": 3, "marginals": "copula"},
        "gaussian": {"method": "gaussian"},
        "gaussian_copula": {"method": "gaussian", "marginals": "copula"},
        "tcopula": {"method": "tcopula"},
        "auto": {"method": "auto"},
    },
    "ci_resamples": 10,
    **_EB.get("suite", {}),
}


rule estimator_suite:
    output:
        table="results/experiments/estimators/benchmark.csv",
        summary="results/experiments/estimators/benchmark_summary.csv",
    params:
        suite="czyz",
        n=_EB_SUITE["n"],
        seeds=_EB_SUITE["seeds"],
        tasks=_EB_SUITE["tasks"],
        estimators=_EB_SUITE["estimators"],
        ci_resamples=_EB_SUITE["ci_resamples"],
        device=_EB["device"],
    log:
        "results/logs/estimator_benchmark/suite.log",
    threads: 2
    conda:
        "../../envs/infoplane.yaml"
    resources:
        mem_mb=6000,
        runtime=120,
    script:
        "../../scripts/estimator_suite.py"


# The manifold family (infoplane.tasks.manifold): known-MI sources pushed through injective maps into 50-1024 dims,
# each task at its own n. Not part of `all`; config["estimator_benchmark"]["manifold_suite"] sets seeds, tasks,
# estimators. The summary is per estimator and family, with false reliable; the peer (latentmi) comes from the
# table measured in its own environment and shipped (infoplane/benchmarks/data/latentmi_manifold.csv).
_EB_MANIFOLD = {
    "seeds": [0],
    "tasks": None,
    "estimators": None,  # null: infoplane.benchmarks.suite.MANIFOLD_ESTIMATORS
    "ci_resamples": 10,
    **_EB.get("manifold_suite", {}),
}


rule estimator_manifold_suite:
    output:
        table="results/experiments/estimators/manifold_benchmark.csv",
        summary="results/experiments/estimators/manifold_benchmark_summary.csv",
    params:
        suite="manifold",
        n=None,
        seeds=_EB_MANIFOLD["seeds"],
        tasks=_EB_MANIFOLD["tasks"],
        estimators=_EB_MANIFOLD["estimators"],
        ci_resamples=_EB_MANIFOLD["ci_resamples"],
        device=_EB["device"],
    log:
        "results/logs/estimator_benchmark/manifold_suite.log",
    threads: 2
    conda:
        "../../envs/infoplane.yaml"
    resources:
        mem_mb=8000,
        runtime=240,
    script:
        "../../scripts/estimator_suite.py"


rule estimator_suite_figure:
    input:
        table="results/experiments/estimators/benchmark.csv",
    output:
        png=report(
            "results/figures/estimators/benchmark.png",
            caption="../report/benchmark.rst",
            category="estimators",
            labels={"figure": "benchmark"},
        ),
    log:
        "results/logs/estimator_benchmark/suite_figure.log",
    conda:
        "../../envs/infoplane.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../../scripts/estimator_suite_figure.py"
