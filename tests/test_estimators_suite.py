"""The known-MI suite (infoplane.tasks.suite) and its benchmark runner (infoplane.benchmarks.suite)."""

from __future__ import annotations

import numpy as np
import pytest
from infoplane.benchmarks.suite import heatmap, run_suite, summary
from infoplane.tasks import additive_uniform_mi_nats, make_task
from infoplane.tasks.suite import benchmark_tasks, extra_tasks
from infoplane.tasks.transforms import half_cube, wiggly


def test_the_suite_has_40_tasks_with_finite_samples_and_positive_truth():
    tasks = benchmark_tasks()
    assert len(tasks) == 40
    for name, task in tasks.items():
        x, y = task.sample(50, seed=0)
        assert x.shape == (50, task.dim_x) and y.shape == (50, task.dim_y), name
        assert np.isfinite(x).all() and np.isfinite(y).all(), name
        assert task.mi_bits > 0, name
    assert max(t.dim_x for t in tasks.values()) == 50


def test_the_new_maps_are_strictly_increasing():
    a = np.linspace(-20, 20, 100_001)
    for f in (half_cube, wiggly):
        assert (np.diff(f(a)) > 0).all()
    assert make_task("wiggly", dim_x=2, dim_y=2, mi_bits=1.0).mi_bits == 1.0


def test_the_1x1_maps_keep_the_gaussian_mi_and_the_extra_tasks_sample():
    tasks = benchmark_tasks()
    for name in ("bimodal_1x1", "swissroll_2x1", "wiggly_1x1", "half_cube_1x1", "normal_cdf_1x1"):
        assert tasks[name].mi_bits == pytest.approx(-0.5 * np.log2(1 - 0.75**2)), name
    x, _ = tasks["bimodal_1x1"].sample(4000, seed=0)
    # bimodal: 0.3 N(0, 1) + 0.7 N(5, 1); few points near the dip at 2.5, most above it
    assert 0.6 < (x > 2.5).mean() < 0.8
    assert additive_uniform_mi_nats(0.2) == pytest.approx(0.1 - np.log(0.2))
    for name, task in extra_tasks().items():
        x, y = task.sample(20, seed=0)
        assert x.shape == (20, task.dim_x) and np.isfinite(y).all() and task.mi_bits > 0, name


def test_the_runner_gives_rows_a_summary_and_a_figure(tmp_path):
    est = {"gaussian": {"method": "gaussian"}, "auto": {"method": "auto"}}
    df = run_suite(est, tasks=["gaussian_dense_2x2", "normal_cdf_1x1"], n=400, ci_resamples=3, device="cpu")
    assert len(df) == 4 and df["mi_bits"].notna().all() and (df["error"] == "").all()
    s = summary(df).set_index("estimator")
    assert s.loc["auto", "tasks"] == 2 and s.loc["auto", "nan_estimates"] == 0
    assert set(df.loc[df.estimator == "auto", "chosen"]) <= {"ksg", "gaussian", "tcopula"}
    heatmap(df, str(tmp_path / "h.png"))
    assert (tmp_path / "h.png").stat().st_size > 0
    with pytest.raises(ValueError, match="unknown tasks"):
        run_suite(est, tasks=["nope"], n=100)
