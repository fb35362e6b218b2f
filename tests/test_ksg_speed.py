"""The KSG speed benchmark (infoplane.benchmarks.ksg_speed): its table, and counts identical to the
plain float loop on every path (blockwise float, int16 screen, each thread choice), ties included.
Timings are not checked."""

from pathlib import Path

import numpy as np
import pytest
import torch
from infoplane.benchmarks import ksg_speed
from infoplane.benchmarks.ksg_speed import float_loop_counts, prepared
from infoplane.estimators import maxnorm_screen as screen
from infoplane.estimators.base import NATS_TO_BITS
from infoplane.estimators.knn import ksg_counts

COLUMNS = {
    "n", "dx", "dy", "k", "infoplane_seconds", "float_loop_seconds", "bmi_seconds", "infoplane_mi_bits",
    "float_loop_mi_bits", "bmi_mi_bits", "infoplane_pair_dims_per_s", "infoplane_fraction_of_peak",
    "bmi_over_infoplane", "counts_identical", "peak_float32_pair_dims_per_s", "cpu", "note",
}  # fmt: skip


def test_quick_table_without_bmi_has_its_columns_and_identical_counts():
    table = ksg_speed.run(quick=True, repeats=1, bmi_python=None)
    assert COLUMNS <= set(table.columns)
    assert list(zip(table["n"], table["dx"], strict=True)) == [(1000, d) for d in ksg_speed.DIMS]
    assert table["counts_identical"].all()
    assert (table["infoplane_mi_bits"] == table["float_loop_mi_bits"]).all()
    assert table["bmi_seconds"].isna().all() and table["note"].str.contains("bmi not run").all()
    assert (table["infoplane_seconds"] > 0).all() and (table["peak_float32_pair_dims_per_s"] > 0).all()


@pytest.mark.skipif(
    not Path(ksg_speed.BMI_PYTHON).is_file(), reason=f"bmi's interpreter {ksg_speed.BMI_PYTHON} is missing"
)
def test_quick_table_with_bmi_agrees_with_bmi():
    table = ksg_speed.run(quick=True, dims=(2,), repeats=1)
    row = table.iloc[0]
    assert row["note"] == "" and row["bmi_seconds"] > 0 and row["counts_identical"]
    # bmi standardises and computes in float64: the same estimate up to rounding of the data.
    assert row["bmi_mi_bits"] == pytest.approx(row["infoplane_mi_bits"], abs=0.02)


def tied(n, d, decimals, seed):
    """Correlated Gaussians rounded to ``decimals``: many equal coordinates, so tied distances."""
    x, y = ksg_speed.correlated_gaussian(n, d, seed)
    return prepared(np.round(x, decimals), np.round(y, decimals))


def assert_counts_equal_float_loop(x, y, k=5, **kw):
    expected = float_loop_counts(x, y, k)
    for got, want in zip(ksg_counts(x, y, k=k, **kw), expected, strict=True):
        assert torch.equal(got, want)


@pytest.mark.parametrize("d, decimals", [(2, 1), (2, 3), (10, 2), (25, 1), (25, 2), (100, 3)])
def test_default_path_counts_equal_the_float_loop_on_tied_data(d, decimals):
    # d = 2: the blockwise float path; from 8 + 8 the screen, or the blockwise path where ties
    # make the screen give up (TooManyTies).
    assert_counts_equal_float_loop(*tied(700, d, decimals, seed=d + decimals))


@pytest.mark.parametrize("d", [2, 25])
def test_blockwise_path_counts_equal_the_float_loop(d):
    assert_counts_equal_float_loop(*tied(300, d, 2, seed=d), chunk_size=37)


@pytest.fixture
def two_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def fake_timings(monkeypatch, seconds_for):
    """screen._max_abs_into, doing its work but reporting ``seconds_for(threads, call)`` seconds."""
    real, seen = screen._max_abs_into, []  # seen: the thread counts of the calls, cleared per run

    def timed(strip, diff, start, pairs, threads):
        real(strip, diff, start, pairs, threads)
        seen.append(threads)
        return seconds_for(threads, len(seen))

    monkeypatch.setattr(screen, "_max_abs_into", timed)
    monkeypatch.setattr(screen, "STRIP_ROWS", 32)
    monkeypatch.setattr(screen, "BLOCK_ROWS", 96)
    return seen


@pytest.mark.parametrize(
    "seconds_for, first_after_probe, last",
    [
        (lambda threads, call: 1.0 if threads > 1 else 1e-3, 1, 1),  # several threads slower: one
        (lambda threads, call: 1e-6 if threads > 1 else 1.0, 2, 2),  # several clearly faster: kept
        (lambda threads, call: (1e-6 if call <= 3 else 1.0) if threads > 1 else 1e-3, 2, 1),  # then slower: back to one
    ],
)
def test_every_thread_choice_gives_the_float_loop_counts(
    two_threads, monkeypatch, seconds_for, first_after_probe, last
):
    seen = fake_timings(monkeypatch, seconds_for)
    for decimals in (2, 6):
        seen.clear()
        x, y = tied(500, 25, decimals, seed=decimals)
        assert screen.applies(x, y)
        expected = float_loop_counts(x, y, 5)
        for got, want in zip(screen.ksg_counts(x, y, 5, 1), expected, strict=True):
            assert torch.equal(got, want)
        assert seen[:2] == [1, 2] and seen[2] == first_after_probe and seen[-1] == last
        assert torch.get_num_threads() == 2  # restored


def test_mi_from_the_float_loop_counts_is_infoplanes_estimate():
    from infoplane.estimators import estimate
    from infoplane.estimators.knn import ksg_nats_from_counts

    x, y = ksg_speed.correlated_gaussian(400, 25, seed=1)
    mi = estimate("ksg", torch.from_numpy(x), torch.from_numpy(y), k=5, ci=False).mi_bits
    assert mi == ksg_nats_from_counts(*float_loop_counts(*prepared(x, y), 5), 5) * NATS_TO_BITS
