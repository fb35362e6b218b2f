# infoplane: the information plane of neural networks as a reproducible DAG.
# Table of contents only: config, validation and input functions live in workflow/rules/common.smk.

from snakemake.utils import min_version

min_version("9.0")


# The default config, unless --configfile names another: a config file replaces it, never merges into it.
if not workflow.overwrite_configfiles:

    configfile: "config/config.yaml"



report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/datasets.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/extract.smk"
include: "workflow/rules/compressors.smk"
include: "workflow/rules/estimate.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/generalisation.smk"
include: "workflow/rules/diffusion.smk"
include: "workflow/rules/benchmarks.smk"
include: "workflow/rules/estimator_benchmark.smk"
include: "workflow/rules/variational_limits.smk"
include: "workflow/rules/lossy_compression.smk"
include: "workflow/rules/reproductions.smk"


rule all:
    input:
        all_targets(),
        f"{RESULTS}/reproductions.csv",
    default_target: True
