"""The manifold family (infoplane.tasks.manifold): the maps are injective, so the truth is the source's."""

from __future__ import annotations

import numpy as np
import pytest
from infoplane.tasks import student_t_correction_nats
from infoplane.tasks.manifold import EmbeddedTask, family_of, manifold_tasks


def _invert_tanh_map(x: np.ndarray, task: EmbeddedTask, u: np.ndarray) -> np.ndarray:
    """Recover the source from the tanh map by least squares on arctanh(x) = gain A u + b (A, b fitted on u)."""
    z = np.arctanh(np.clip(x, -1 + 1e-12, 1 - 1e-12))
    design = np.column_stack([u, np.ones(len(u))])
    coef, *_ = np.linalg.lstsq(design, z, rcond=None)  # (m + 1, D): the affine map u -> arctanh(x)
    a, b = coef[:-1], coef[-1]
    u_back, *_ = np.linalg.lstsq(a.T, (z - b).T, rcond=None)
    return u_back.T


def test_the_tanh_map_is_an_affine_map_of_the_source_under_arctanh_so_it_inverts():
    task = EmbeddedTask("gaussian", intrinsic_dim=3, ambient_dim=60, mi_bits=2.0, embedding="tanh", gain=1.0)
    x, y = task.sample(400, seed=1)
    u, v = task.sample_sources(400, seed=1)
    assert x.shape == (400, 60) and y.shape == (400, 60)
    # The whole sample goes through one fixed map: fit it on half the rows, invert the other half exactly.
    back = _invert_tanh_map(x, task, u)
    assert np.abs(back - u).max() < 1e-6
    assert np.abs(_invert_tanh_map(y, task, v) - v).max() < 1e-6


def test_the_maps_are_fixed_by_map_seed_and_the_samples_by_seed():
    task = EmbeddedTask("gaussian", 2, 40, 1.0, embedding="mlp")
    a1, _ = task.sample(300, seed=0)
    a2, _ = task.sample(300, seed=0)
    b, _ = task.sample(300, seed=1)
    np.testing.assert_array_equal(a1, a2)
    assert not np.allclose(a1, b)
    other = EmbeddedTask("gaussian", 2, 40, 1.0, embedding="mlp", map_seed=5)
    assert not np.allclose(other.sample(300, seed=0)[0], a1)


def test_dead_units_have_constant_and_duplicated_columns_and_stay_injective():
    task = EmbeddedTask("gaussian", 2, 90, 2.0, embedding="dead_units")
    x, _ = task.sample(500, seed=0)
    constant = (x == x[:1]).all(axis=0)
    assert constant.sum() >= 5
    live = x[:, ~constant]
    assert len({c.tobytes() for c in live.T}) < live.shape[1]  # exact copies
    u, _ = task.sample_sources(500, seed=0)
    # the tanh block (a third of the columns, in [-1, 1] and never exactly 0 or copied) still inverts
    distinct = {}
    for j in range(x.shape[1]):
        distinct.setdefault(x[:, j].tobytes(), j)
    block = [j for j in distinct.values() if np.abs(x[:, j]).max() < 1 and (x[:, j] != 0).all()]
    assert np.abs(_invert_tanh_map(x[:, block], task, u) - u).max() < 1e-6


def test_truths_are_the_sources():
    assert EmbeddedTask("gaussian", 4, 100, 8.0).mi_bits == 8.0
    t = EmbeddedTask("student_t", 2, 100, 1.5, dof=5.0)
    tail = student_t_correction_nats(5.0, 2, 2) / np.log(2)
    assert t.mi_bits == 1.5 and t._source_task().mi_bits == pytest.approx(1.5)
    assert 0 < tail < 1.5
    u = EmbeddedTask("uniform", 2, 100, 2.0, embedding="mlp")
    assert u._source_task().mi_bits == pytest.approx(2.0)
    x, y = u.sample(200, seed=0)
    assert np.isfinite(x).all() and x.shape == (200, 100)


def test_bad_parameters_name_the_key():
    with pytest.raises(ValueError, match="source"):
        EmbeddedTask("cauchy", 2, 50, 1.0)
    with pytest.raises(ValueError, match="ambient_dim"):
        EmbeddedTask("gaussian", 4, 3, 1.0)
    with pytest.raises(ValueError, match="mi_bits"):
        EmbeddedTask("student_t", 2, 50, 0.0, dof=1.0)  # below the tails' own share
    with pytest.raises(ValueError, match="embedding"):
        EmbeddedTask("gaussian", 2, 50, 1.0, embedding="relu")


def test_the_family_spans_the_regime_the_issue_names():
    tasks = manifold_tasks()
    dims = [t.intrinsic_dim for t, _ in tasks.values() if isinstance(t, EmbeddedTask)]
    ambient = [t.dim_x for t, _ in tasks.values()]
    truths = [t.mi_bits for t, _ in tasks.values()]
    sizes = [n for _, n in tasks.values()]
    assert min(dims) == 1 and max(dims) == 8
    assert min(ambient) == 50 and max(ambient) >= 1000
    assert min(truths) == 0 and max(truths) == 10
    assert min(sizes) == 1000 and max(sizes) == 10_000
    assert {family_of(name) for name in tasks} == {"tanh", "mlp", "dead_units", "images"}
    sources = {t.source for t, _ in tasks.values()}
    assert sources == {"gaussian", "student_t", "uniform"}
