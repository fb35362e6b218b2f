"""Sample geometry (infoplane.estimators.geometry): intrinsic dimension, rank, degenerate columns."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from infoplane.estimators.geometry import (
    degenerate_columns,
    drop_degenerate_columns,
    full_dimensional_reference,
    intrinsic_dimension,
    numerical_rank,
    smallest_eigenvalue_below,
)


def _t(a) -> torch.Tensor:
    return torch.as_tensor(np.asarray(a), dtype=torch.float64)


@pytest.mark.parametrize("d", [1, 2, 5])
def test_twonn_and_mle_find_the_dimension_of_a_curved_manifold_in_many_coordinates(d):
    rng = np.random.default_rng(d)
    u = rng.uniform(-1, 1, size=(2000, d))
    # a smooth curved embedding into 60 coordinates
    a = rng.standard_normal((60, d))
    x = np.sin(1.5 * u @ a.T + rng.uniform(0, 3, 60))
    assert intrinsic_dimension(_t(x)) == pytest.approx(d, rel=0.15)
    assert intrinsic_dimension(_t(x), "mle", k=10) == pytest.approx(d, rel=0.2)


def test_a_full_rank_gaussian_is_seen_as_full_dimensional_by_its_reference():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2000, 20))
    ref = full_dimensional_reference(2000, 20)
    assert 12 < ref < 20  # TwoNN falls short of d in many dimensions
    assert intrinsic_dimension(_t(x)) == pytest.approx(ref, rel=0.1)


def test_degenerate_columns_and_rank():
    rng = np.random.default_rng(0)
    base = rng.standard_normal((300, 4))
    x = np.column_stack([base, np.zeros(300), base[:, 1], 2 * base[:, 0] + base[:, 2]])
    bad = degenerate_columns(_t(x))
    assert bad == {"constant": [4], "duplicate": [5]}
    reduced, counts = drop_degenerate_columns(_t(x))
    assert reduced.shape == (300, 5) and counts == {"constant_columns": 1, "duplicate_columns": 1}
    assert numerical_rank(reduced) == 4  # the last column is a combination of others
    assert numerical_rank(_t(base)) == 4


def test_smallest_eigenvalue_below():
    corr = torch.tensor([[1.0, 0.999999], [0.999999, 1.0]], dtype=torch.float64)
    assert smallest_eigenvalue_below(corr, 1e-3)
    assert not smallest_eigenvalue_below(torch.eye(3, dtype=torch.float64), 1e-3)


def test_intrinsic_dimension_ignores_duplicate_rows_and_refuses_too_few():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((500, 3))
    x = np.vstack([x, x[:100]])
    assert intrinsic_dimension(_t(x)) == pytest.approx(3, rel=0.2)
    with pytest.raises(ValueError, match="rows"):
        intrinsic_dimension(_t(x[:3]))
