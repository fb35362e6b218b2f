"""The published-scale config of Kawaguchi et al. (2023) plans its DAG, with MNIST from a (dummy) IDX folder."""

from conftest import REPO
from test_data_digits_mnist import _fake_mnist
from test_workflow import snakemake


def test_paper_config_with_mnist_dry_runs(tmp_path):
    _fake_mnist(tmp_path / "mnist")
    text = (REPO / "config/paper/kawaguchi2023.yaml").read_text()
    text = text.replace(
        "  # mnist: {generator: mnist, path: /path/to/mnist,",
        f"  mnist: {{generator: mnist, path: {tmp_path / 'mnist'},",
    )
    text = text.replace("  kawaguchi2023_digits:\n    dataset: digits", "  kawaguchi2023_digits:\n    dataset: mnist")
    assert "dataset: mnist" in text and "  mnist: {generator: mnist" in text
    config = tmp_path / "kawaguchi2023.yaml"
    config.write_text(text)
    out = snakemake("-n", "--configfile", str(config))
    log = out.stdout + out.stderr
    assert "results/datasets/mnist.zarr" in log
    for rule, count in (("generalisation", 2), ("claims", 2)):
        assert any(line.split() == [rule, str(count)] for line in log.splitlines()), rule
    # 252 runs; the seeds of a model share a training job (one group each: 216 / 3 + 36 / 3), and so
    # an extraction job and an estimation job (rules extract_group_*, estimate_group_*)
    stats = log.split("Job stats:")[1].split("\n\n")[0].splitlines()
    for stage in ("train", "extract", "estimate"):
        assert sum(int(line.split()[1]) for line in stats if line.startswith(stage)) == 84, stage
    assert log.count("activations.zarr") >= 252  # every run's store is still made (as a group job's output)
