"""The GPU check (infoplane.benchmarks.gpu_check): its quick run on CPU, the comparison it rests on,
and the full check where CUDA is present (marker gpu)."""

import math
import sys

import pandas as pd
import pytest
import torch
from infoplane.benchmarks import gpu_check
from infoplane.estimators import ESTIMATORS

# Loose bounds on |CPU estimate - truth| at the quick size (n=400), per estimator with a known truth: the
# bias plus about three standard deviations over seeds 0-5 (measured: sd 0.03-0.05 bits, wkl's 0.12).
TRUTH_TOLERANCE_BITS = {
    "ksg": 0.2,
    "mixed_ksg": 0.2,
    "pca_ksg": 0.2,
    "wkl": 0.4,
    "pca_wkl": 0.4,
    "gaussian": 0.15,
    "tcopula": 0.15,
    "auto": 0.25,
}


@pytest.fixture(scope="module")
def quick_table(tmp_path_factory):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        out = tmp_path_factory.mktemp("gpu_check") / "gpu_check.csv"
        table = gpu_check.run_gpu_check(out, quick=True, seed=0)
    finally:
        torch.set_num_threads(threads)
    return table, out


def test_compare_fails_beyond_tolerance():
    assert gpu_check.compare(1.0, 1.0 + 5e-5, atol=1e-4) == pytest.approx((5e-5, 1e-4, True))
    diff, tol, ok = gpu_check.compare(1.0, 1.0 + 2e-4, atol=1e-4)
    assert not ok and diff == pytest.approx(2e-4) and tol == 1e-4
    # the relative part: 1e-5 of 100 bits is 1e-3
    assert gpu_check.compare(100.0, 100.0005, atol=1e-4, rtol=1e-5)[2]
    assert not gpu_check.compare(100.0, 100.002, atol=1e-4, rtol=1e-5)[2]
    assert not gpu_check.compare(math.nan, 1.0, atol=1.0)[2]
    assert not gpu_check.compare(1.0, math.inf, atol=1.0)[2]


def test_a_failed_comparison_is_a_failure_of_the_check():
    table = pd.DataFrame({"passed": [True, None, False], "estimator_or_task": ["a", "b", "c"]})
    assert list(gpu_check.failures(table)["estimator_or_task"]) == ["c"]
    assert list(gpu_check.failures(table.astype(str))["estimator_or_task"]) == ["c"]  # as read back from CSV


def test_tolerances_follow_the_precision_of_each_estimator():
    assert gpu_check.tolerance_for("gaussian") == gpu_check.FLOAT64
    assert gpu_check.tolerance_for("ksg") == gpu_check.FLOAT32
    assert gpu_check.tolerance_for("mine") == gpu_check.CRITIC


def test_label_truth_matches_a_direct_sum():
    task = gpu_check.TASK
    rng = torch.Generator().manual_seed(0)
    u = torch.randn(200_000, generator=rng, dtype=torch.float64)
    p = torch.special.ndtr(task.rho * u / math.sqrt(1 - task.rho**2))
    hb = -(p * torch.log2(p) + (1 - p) * torch.log2(1 - p)).nan_to_num()
    assert gpu_check.label_truth_bits() == pytest.approx(1 - float(hb.mean()), abs=3e-3)


def test_quick_check_on_cpu(quick_table):
    table, out = quick_table
    assert list(table.columns) == gpu_check.COLUMNS
    assert out.is_file() and len(pd.read_csv(out)) == len(table)
    est = table[table["check"] == "estimator"]
    assert set(est["estimator_or_task"]) == set(ESTIMATORS)
    cpu = est[est["device"] == "cpu"].set_index("estimator_or_task")
    for name, row in cpu.iterrows():
        assert math.isfinite(row["value"]) and row["seconds"] > 0, name
    for name, tol in TRUTH_TOLERANCE_BITS.items():
        row = cpu.loc[name]
        assert abs(row["value"] - row["truth_bits"]) < tol, (name, row["value"], row["truth_bits"])
    for check in ("kde_time", "ksg_time", "training_time"):
        rows = table[(table["check"] == check) & (table["device"] == "cpu")]
        assert len(rows) and all(math.isfinite(v) and v > 0 for v in rows["value"]), check
    assert len(gpu_check.failures(table)) == 0


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is present: its rows are compared, not skipped")
def test_cuda_rows_say_why_they_are_skipped(quick_table):
    table, _ = quick_table
    cuda = table[table["device"] == "cuda"]
    assert len(cuda) == (table["device"] == "cpu").sum() - table["note"].str.startswith("cpu only", na=False).sum()
    assert (cuda["note"] == gpu_check.SKIPPED).all()
    assert cuda["value"].isna().all() and cuda["passed"].isna().all()


def test_the_comparison_path_runs_cpu_against_cpu(tmp_path, monkeypatch):
    """device="cpu" runs the path of the CUDA rows without CUDA: the same seed gives the same numbers."""
    monkeypatch.setattr(gpu_check, "ESTIMATORS", {k: ESTIMATORS[k] for k in ("ksg", "gaussian", "kde", "infonce")})
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        table = gpu_check.run_gpu_check(tmp_path / "self.csv", quick=True, device="cpu")
    finally:
        torch.set_num_threads(threads)
    compared = table[table["passed"].notna()]
    assert len(compared) == 4 + 3  # the estimators, the two KDE quantities and KSG
    assert compared["passed"].all() and (compared["abs_diff"] == 0).all()


def test_main_exits_nonzero_when_a_comparison_fails(tmp_path, monkeypatch):
    def failing(out_csv, quick=False, seed=0):
        row = gpu_check._row("estimator", "ksg", "cuda", value=1.0, reference_value=0.5, passed=False, note="x")
        table = pd.DataFrame([row])
        table.to_csv(out_csv, index=False)
        return table

    monkeypatch.setattr(gpu_check, "run_gpu_check", failing)
    assert gpu_check.main(["--out", str(tmp_path / "t.csv")]) == 1


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA (torch.cuda.is_available() is False)")
def test_full_check_on_cuda(tmp_path):
    table = gpu_check.run_gpu_check(tmp_path / "gpu_check.csv", quick=False)
    bad = gpu_check.failures(table)
    assert len(bad) == 0, bad.to_string()
    assert (table[table["device"] == "cuda"]["note"] != gpu_check.SKIPPED).all()


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
