"""The int16-screened max-norm KSG path gives exactly the counts of the blockwise float path."""

import numpy as np
import pytest
import torch
from infoplane.estimators import maxnorm_screen as screen
from infoplane.estimators.knn import ksg_nats


def blockwise(x, y, **kw):
    # An explicit chunk_size keeps ksg_nats on the blockwise float path.
    return ksg_nats(x, y, chunk_size=37, **kw)


def screened(x, y, **kw):
    """ksg_nats on the screened path (the autouse fixture lets it serve every dimension)."""
    assert screen.applies(x, y)
    screen.ksg_counts(x, y, kw.get("k", 3), kw.get("algorithm", 1))  # raises if it would give up
    return ksg_nats(x, y, **kw)


def gaussian(n, dx, dy, seed, dtype=torch.float32):
    g = np.random.default_rng(seed)
    x = g.standard_normal((n, dx))
    y = 0.7 * x[:, :1] + g.standard_normal((n, dy))
    return torch.as_tensor(x, dtype=dtype), torch.as_tensor(y, dtype=dtype)


@pytest.fixture(autouse=True)
def screen_every_dimension(monkeypatch):
    monkeypatch.setattr(screen, "MIN_COORDINATES", 2)


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks and strips of a few rows, so that a few hundred points cross many of both."""
    monkeypatch.setattr(screen, "BLOCK_ROWS", 96)
    monkeypatch.setattr(screen, "STRIP_ROWS", 32)


# One count more or less for one point moves the estimate by at least ~1e-6 nats at these n, so
# agreement to 1e-12 means that every count agrees.
@pytest.mark.parametrize("algorithm", [1, 2])
@pytest.mark.parametrize("dims", [(1, 1), (3, 7), (25, 25)])
def test_screened_equals_blockwise_on_continuous_data(small_blocks, algorithm, dims):
    x, y = gaussian(517, *dims, seed=sum(dims) + algorithm)
    expected = blockwise(x, y, k=3, algorithm=algorithm)
    assert screened(x, y, k=3, algorithm=algorithm) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("n", [2, 5, 9, 17, 40, 129])
def test_screened_equals_blockwise_for_few_points(n):
    # Fewer column groups than neighbour candidates: the searches fall back to a plain topk.
    x, y = gaussian(n, 4, 4, seed=n)
    for k, algorithm in [(1, 1), (min(3, n - 1), 2)]:
        expected = blockwise(x, y, k=k, algorithm=algorithm)
        assert screened(x, y, k=k, algorithm=algorithm) == pytest.approx(expected, abs=1e-12)


def test_screened_equals_blockwise_with_default_blocks_and_float64():
    x, y = gaussian(1500, 10, 10, seed=3, dtype=torch.float64)
    assert screened(x, y, k=5) == pytest.approx(blockwise(x, y, k=5), abs=1e-12)


def test_screened_equals_blockwise_on_heavy_tails(small_blocks):
    # Outliers make the quantisation step coarse: more pairs fall in the exactly-decided band.
    g = np.random.default_rng(7)
    x = torch.as_tensor(g.standard_t(1.0, (400, 4)), dtype=torch.float32)
    y = torch.as_tensor(x.numpy() + g.standard_t(1.0, (400, 4)), dtype=torch.float32)
    assert screened(x, y, k=3) == pytest.approx(blockwise(x, y, k=3), abs=1e-12)


def test_screened_equals_blockwise_on_tied_discrete_data(small_blocks, monkeypatch):
    # Integer data: many equal distances around the k-th neighbour, so rows take the exact
    # fallback in the neighbour search (the limits that would hand such data to the blockwise
    # path are lifted). Algorithm 1 only: with ties at the k-th neighbour, algorithm 2 depends
    # on which tied points are taken.
    monkeypatch.setattr(screen, "MAX_TIED_ROWS", 1.0)
    monkeypatch.setattr(screen, "MAX_BAND_PER_ROW", 10**9)
    g = np.random.default_rng(11)
    x = torch.as_tensor(g.integers(0, 4, (300, 3)), dtype=torch.float32)
    y = torch.as_tensor(x.numpy()[:, :2] + g.integers(0, 2, (300, 2)), dtype=torch.float32)
    assert screened(x, y, k=3) == pytest.approx(blockwise(x, y, k=3), abs=1e-12)


def test_binary_data_go_to_the_blockwise_path():
    # Saturated units: every max-norm distance is 0 or 2, so nearly every pair would need its
    # float distance. The screened path gives up in its first block; the estimate is unchanged.
    g = np.random.default_rng(2)
    b = torch.as_tensor(np.sign(g.standard_normal((700, 10))), dtype=torch.float32)
    c = torch.as_tensor(np.sign(b.numpy() + 0.8 * g.standard_normal((700, 10))), dtype=torch.float32)
    with pytest.raises(screen.TooManyTies):
        screen.ksg_counts(b, c, 3, 1)
    assert ksg_nats(b, c, k=3) == pytest.approx(blockwise(b, c, k=3), abs=1e-12)


def test_quantised_distances_hand_out_the_full_symmetric_matrix(small_blocks):
    x, _ = gaussian(150, 6, 1, seed=0)
    h = screen.quantisation_step(x, x)
    width = screen._padded(150)
    q = screen.quantise(x, h, 6, width)[:, None]  # one marginal
    qf = q[:, 0, :150].to(torch.int32)
    expected = (qf[:, :, None] - qf[:, None, :]).abs().amax(dim=0).to(torch.int16)
    expected.fill_diagonal_(screen.INT16_MAX)
    dist = screen.QuantisedDistances(q, 150)
    got = torch.cat([dist.rows(start, torch.empty((1, min(64, 150 - start), width), dtype=torch.int16))[0]
                     for start in range(0, 150, 64)])  # fmt: skip
    assert torch.equal(got[:, :150], expected)
    assert bool((got[:, 150:] == screen.INT16_MAX).all())
    # |D - h Dq| <= h: the bound the exact decisions rest on.
    exact = (x[:, None, :] - x[None, :, :]).abs().amax(dim=-1).fill_diagonal_(0).double()
    err = (exact - h * got[:, :150].double().fill_diagonal_(0)).abs()
    assert float(err.max()) <= h * 1.0001
    with pytest.raises(ValueError, match="in order"):
        dist.rows(0, torch.empty((1, 10, width), dtype=torch.int16))


def test_smallest_and_entries_below_match_torch():
    g = torch.Generator().manual_seed(0)
    t = torch.randint(0, 50, (40, 16 * 12), generator=g, dtype=torch.int16)  # many ties
    values, cols = screen._smallest(t, 7, torch.empty_like(t))
    assert torch.equal(values, torch.topk(t, 7, dim=1, largest=False, sorted=True).values)
    assert torch.equal(t.gather(1, cols), values)
    row, col = screen._entries_below(t, 2, torch.empty_like(t))
    assert bool((row[1:] >= row[:-1]).all())  # sorted by row, which the band refinement uses
    expected = (t < 2).nonzero(as_tuple=True)
    assert torch.equal(torch.sort(row * t.shape[1] + col).values, expected[0] * t.shape[1] + expected[1])


def test_applies_only_on_cpu_to_comparable_scales_and_int16_counts(monkeypatch):
    monkeypatch.setattr(screen, "MIN_COORDINATES", 16)
    x, y = gaussian(500, 10, 10, seed=0)
    assert screen.applies(x, y)
    assert not screen.applies(x[:, :5], y[:, :5])  # 10 coordinates: the float loop is faster
    assert not screen.applies(x, 100 * y)  # one step h cannot resolve both marginals
    assert not screen.applies(x.to("meta"), y.to("meta"))
    many = torch.zeros((40000, 10))
    many[0] = 1.0
    assert not screen.applies(many, many)  # counts beyond int16
