"""The known-MI suite is bmi's v1 list (Czyz et al. 2023; PyPI ``benchmark-mi`` 0.1.3): names,
dimensions, truths and maps checked against values recorded from bmi (bmi is not imported here).

Recorded with bmi 0.1.3 (``bmi.benchmark.task_list.BENCHMARK_TASKS_LIST``; JAX x64 for the map
values). The laws were also compared sample against sample (20,000 draws a task, per-coordinate
Kolmogorov-Smirnov tests and rank correlations; nothing beyond chance) when the suite was aligned.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from infoplane.tasks.suite import BMI_IDS, Spiral, benchmark_tasks, bimodal_x, bimodal_y, bmi_wiggly_x, bmi_wiggly_y

# (bmi task id, dim_x, dim_y, bmi's mutual_information in nats), in bmi's order.
BMI_V1 = [
    ("1v1-normal-0.75", 1, 1, 0.41333928659223396),
    ("normal_cdf-1v1-normal-0.75", 1, 1, 0.41333928659223396),
    ("1v1-additive-0.1", 1, 1, 1.7094379124341004),
    ("1v1-additive-0.75", 1, 1, 0.3333333333333333),
    ("1v1-bimodal-0.75", 1, 1, 0.41333928659223396),
    ("wiggly-1v1-normal-0.75", 1, 1, 0.41333928659223396),
    ("half_cube-1v1-normal-0.75", 1, 1, 0.41333928659223396),
    ("student-identity-1-1-1", 1, 1, 0.22417142752923613),
    ("asinh-student-identity-1-1-1", 1, 1, 0.22417142752923613),
    ("swissroll_x-normal_cdf-1v1-normal-0.75", 2, 1, 0.41333928659223396),
    ("multinormal-dense-2-2-0.5", 2, 2, 0.2938933324510593),
    ("multinormal-dense-3-3-0.5", 3, 3, 0.41333928659223407),
    ("multinormal-dense-5-5-0.5", 5, 5, 0.5928118328288701),
    ("multinormal-dense-25-25-0.5", 25, 25, 1.2921837216593275),
    ("multinormal-dense-50-50-0.5", 50, 50, 1.6242653743036897),
    ("multinormal-sparse-2-2-2-2.0", 2, 2, 1.0216512475319819),
    ("multinormal-sparse-3-3-2-2.0", 3, 3, 1.0216512475319819),
    ("multinormal-sparse-5-5-2-2.0", 5, 5, 1.021651247531981),
    ("multinormal-sparse-25-25-2-2.0", 25, 25, 1.0216512475319774),
    ("student-identity-2-2-1", 2, 2, 0.43194562200144127),
    ("student-identity-2-2-2", 2, 2, 0.1931471805599454),
    ("student-identity-3-3-2", 3, 3, 0.29092192268276484),
    ("student-identity-3-3-3", 3, 3, 0.17871185309236282),
    ("student-identity-5-5-2", 5, 5, 0.44815067691532917),
    ("student-identity-5-5-3", 5, 5, 0.29854362265275824),
    ("normal_cdf-multinormal-sparse-3-3-2-2.0", 3, 3, 1.0216512475319819),
    ("normal_cdf-multinormal-sparse-5-5-2-2.0", 5, 5, 1.021651247531981),
    ("normal_cdf-multinormal-sparse-25-25-2-2.0", 25, 25, 1.0216512475319774),
    ("half_cube-multinormal-sparse-3-3-2-2.0", 3, 3, 1.0216512475319819),
    ("half_cube-multinormal-sparse-5-5-2-2.0", 5, 5, 1.021651247531981),
    ("half_cube-multinormal-sparse-25-25-2-2.0", 25, 25, 1.0216512475319774),
    ("spiral-multinormal-sparse-3-3-2-2.0", 3, 3, 1.0216512475319819),
    ("spiral-multinormal-sparse-5-5-2-2.0", 5, 5, 1.021651247531981),
    ("spiral-multinormal-sparse-25-25-2-2.0", 25, 25, 1.0216512475319774),
    ("spiral-normal_cdf-multinormal-sparse-3-3-2-2.0", 3, 3, 1.0216512475319819),
    ("spiral-normal_cdf-multinormal-sparse-5-5-2-2.0", 5, 5, 1.021651247531981),
    ("spiral-normal_cdf-multinormal-sparse-25-25-2-2.0", 25, 25, 1.0216512475319774),
    ("asinh-student-identity-2-2-1", 2, 2, 0.43194562200144127),
    ("asinh-student-identity-3-3-2", 3, 3, 0.29092192268276484),
    ("asinh-student-identity-5-5-2", 5, 5, 0.44815067691532917),
]


def test_the_suite_is_bmis_v1_list_in_order_with_its_dimensions_and_truths():
    tasks = benchmark_tasks()
    assert len(tasks) == len(BMI_V1) == 40
    assert [BMI_IDS[name] for name in tasks] == [row[0] for row in BMI_V1]
    for (name, task), (bmi_id, dx, dy, nats) in zip(tasks.items(), BMI_V1, strict=True):
        assert (task.dim_x, task.dim_y) == (dx, dy), name
        assert task.mi_bits == pytest.approx(nats / math.log(2), rel=1e-12, abs=1e-12), (name, bmi_id)
        x, y = task.sample(64, seed=0)
        assert x.shape == (64, dx) and y.shape == (64, dy), name


def test_the_maps_are_bmis():
    """Values of bmi's wiggly_x/wiggly_y, Spiral(so_generator(3, i, j), speed=1/3) and the bimodal inverse CDFs."""
    a = np.array([-2.0, 0.5, 3.0])
    assert bmi_wiggly_x(a) == pytest.approx([-2.508384557710983, 0.8614868438825324, 3.0469767452438763], abs=1e-12)
    assert bmi_wiggly_y(a) == pytest.approx([-1.5600009372394388, 0.2698570823500406, 2.763408212519373], abs=1e-12)
    p = np.array([[0.3, -1.2, 0.8]])
    assert Spiral(0, 1, 1 / 3)(p)[0] == pytest.approx([1.0191455101026508, -0.7009582221770477, 0.8], abs=1e-12)
    assert Spiral(1, 2, 1 / 3)(p)[0] == pytest.approx([0.3, -1.4290339476784029, -0.19458154173168507], abs=1e-12)
    z = np.array([-1.2815515655446004, 0.0, 1.2815515655446004])  # normal quantiles of 0.1, 0.5, 0.9
    assert bimodal_x(z) == pytest.approx([-0.43072747938055045, 4.434057008006391, 6.067570525111421], abs=1e-9)
    assert bimodal_y(z) == pytest.approx([-1.8416235335766373, 1.0, 3.8416235335765236], abs=1e-9)


@pytest.mark.parametrize("d", [3, 5, 25])
def test_the_spirals_have_bmis_parameters(d):
    """speed 1 normalised by the dimension; x turns coordinates (0, 1), y (1, 2); both spiral families."""
    tasks = benchmark_tasks()
    for name in (f"spiral_{d}x{d}", f"spiral_normal_cdf_{d}x{d}"):
        t = tasks[name]
        assert (t.fx.i, t.fx.j, t.fy.i, t.fy.j) == (0, 1, 1, 2), name
        assert t.fx.speed == t.fy.speed == pytest.approx(1.0 / d), name
    x, y = tasks[f"spiral_normal_cdf_{d}x{d}"].sample(200, seed=0)
    # the normal CDF comes first: the spiral keeps the norm of points of (0, 1)^d
    assert (np.linalg.norm(x, axis=1) < math.sqrt(d)).all()


def test_spirals_keep_the_norm_and_invert():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((100, 5))
    s = Spiral(1, 2, 0.2)
    b = s(a)
    assert np.allclose(np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1))
    assert np.allclose(Spiral(1, 2, -0.2)(b), a)
