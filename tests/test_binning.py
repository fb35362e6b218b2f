"""The binning estimator against hand-computed values, the original per-epoch loop, and the task's I(X;Y)."""

import math

import numpy as np
import pytest
import torch
from infoplane.benchmarks.binning_speed import numpy_loop_plane_bits, synthetic_run
from infoplane.data import tishby12
from infoplane.estimators import estimate, information_plane
from infoplane.estimators.binning import bin_indices, binned_plane_bits, discrete_entropy_bits, row_codes


def test_hand_computed_four_patterns():
    # Four patterns, one unit: values fall in bins {0, 0, 1, 1} of 2 bins over [-1, 1].
    # T takes 2 equiprobable values: I(X;T) = H(T) = 1 bit.
    # Labels (0, 1, 0, 1): T says nothing of Y, I(T;Y) = 0. Labels (0, 0, 1, 1): T = Y, I(T;Y) = 1.
    t = torch.tensor([[[-0.9], [-0.1], [0.2], [0.7]]])
    r = binned_plane_bits(t, torch.tensor([0, 1, 0, 1]), bins=2)
    assert r["I_XT"].item() == pytest.approx(1.0)
    assert r["I_TY"].item() == pytest.approx(0.0, abs=1e-12)
    r = binned_plane_bits(t, torch.tensor([0, 0, 1, 1]), bins=2)
    assert r["I_TY"].item() == pytest.approx(1.0)


def test_hand_computed_uneven():
    # Bins {0, 0, 0, 1} of 4 patterns: H(T) = -(3/4 log 3/4 + 1/4 log 1/4) = 0.811278 bits.
    # Labels (0, 0, 1, 1): H(T|Y) = 1/2 * H(1/2) + 1/2 * 0 = 0.5, I(T;Y) = 0.311278.
    t = torch.tensor([[[-0.9], [-0.5], [-0.2], [0.6]]])
    r = binned_plane_bits(t, torch.tensor([0, 0, 1, 1]), bins=2)
    h = -(0.75 * math.log2(0.75) + 0.25 * math.log2(0.25))
    assert r["I_XT"].item() == pytest.approx(h, abs=1e-12)
    assert r["I_TY"].item() == pytest.approx(h - 0.5, abs=1e-12)


def test_input_layer_recovers_task_information():
    # Binning the inputs themselves (bits at -1 and 1, 2 bins) keeps every pattern distinct:
    # I(X;T) = log2(4096) = 12 bits and I(T;Y) = I(X;Y) = H(Y).
    x, y = tishby12.generate(seed=3)
    t = torch.as_tensor(2.0 * x - 1.0)[None]
    r = binned_plane_bits(t, torch.as_tensor(y), bins=2)
    assert r["I_XT"].item() == pytest.approx(12.0)
    assert r["I_TY"].item() == pytest.approx(discrete_entropy_bits(torch.as_tensor(y)), abs=1e-12)


def test_agrees_with_original_per_epoch_loop():
    layers, labels = synthetic_run(n_epochs=12, n_samples=1024)
    reference = numpy_loop_plane_bits(layers, labels, bins=30)
    for l, acts in enumerate(layers):
        r = binned_plane_bits(torch.from_numpy(acts), torch.from_numpy(labels), bins=30)
        np.testing.assert_allclose(r["I_XT"].numpy(), reference[:, l, 0], atol=1e-10)
        np.testing.assert_allclose(r["I_TY"].numpy(), reference[:, l, 1], atol=1e-10)


def test_idnns_thirty_edges_equal_twenty_nine_bins():
    # IDNNs: np.digitize(t, np.linspace(-1, 1, 30)); inside (-1, 1) that partition is bins=29 here.
    rng = np.random.default_rng(0)
    t = np.tanh(rng.normal(size=(1, 500, 3)) * 2).astype(np.float32)
    ours = bin_indices(torch.from_numpy(t), bins=29).numpy()
    theirs = np.digitize(t, np.linspace(-1, 1, 30)) - 1
    assert np.array_equal(ours, theirs)


def test_observed_range_does_not_clip_relu():
    # ReLU activity in [0, 10]: fixed [-1, 1] bins lump everything above 1 together; observed bins do not.
    t = torch.linspace(0, 10, 64).reshape(1, 64, 1)
    labels = torch.zeros(64, dtype=torch.int64)
    fixed = binned_plane_bits(t, labels, bins=30, range="fixed")["I_XT"].item()
    observed = binned_plane_bits(t, labels, bins=30, range="observed")["I_XT"].item()
    assert fixed < 3.0 < observed


def test_adaptive_bins_have_equal_mass():
    t = torch.from_numpy(np.random.default_rng(1).exponential(size=(2, 1000, 1)))
    idx = bin_indices(t, bins=10, range="adaptive")
    counts = torch.bincount(idx[0, :, 0].to(torch.int64), minlength=10)
    assert counts.tolist() == [100] * 10
    # Equal mass: H(T) = log2(10) for a single unit.
    r = binned_plane_bits(t, torch.zeros(1000, dtype=torch.int64), bins=10, range="adaptive")
    np.testing.assert_allclose(r["I_XT"].numpy(), math.log2(10), atol=1e-12)


def test_row_codes_exact_beyond_64_bits():
    # 30 bins over 20 units cannot be packed into 64 bits; equal rows must still get equal codes.
    rng = np.random.default_rng(2)
    base_rows = rng.integers(0, 30, size=(50, 20))
    rows = base_rows[rng.integers(0, 50, size=400)]
    codes = row_codes(torch.from_numpy(rows[None]).to(torch.float32), base=30)[0].numpy()
    _, expected = np.unique(rows, axis=0, return_inverse=True)
    _, got = np.unique(codes, return_inverse=True)
    assert np.array_equal(expected.reshape(-1), got.reshape(-1))


def test_estimate_interface_and_plane_dispatch():
    x, y = tishby12.generate(seed=0)
    r = estimate("binning", x, y, bins=2)
    assert r.mi_bits == pytest.approx(discrete_entropy_bits(torch.as_tensor(y)))
    assert r.n_samples == 4096 and r.method == "binning"
    plane = information_plane(
        "binning",
        torch.as_tensor(x, dtype=torch.float64)[None],
        torch.as_tensor(x),
        torch.as_tensor(y),
        bins=2,
        range="observed",
    )
    assert plane["I_XT"]["mi_bits"].item() == pytest.approx(12.0)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="bins must be at least 2"):
        binned_plane_bits(torch.zeros(1, 4, 1), torch.zeros(4, dtype=torch.int64), bins=1)
    with pytest.raises(ValueError, match="labels must have shape"):
        binned_plane_bits(torch.zeros(1, 4, 1), torch.zeros(5, dtype=torch.int64))
    with pytest.raises(ValueError, match="range must be one of"):
        binned_plane_bits(torch.zeros(1, 4, 1), torch.zeros(4, dtype=torch.int64), range="wide")


def test_adaptive_edges_equal_torch_quantile_and_give_the_same_bins():
    from infoplane.estimators import binning
    from infoplane.estimators.binning import _quantiles_over_samples

    rng = np.random.default_rng(3)
    t = torch.as_tensor(np.tanh(rng.normal(size=(3, 501, 4)) * 3))
    t[1, :, 2] = 0.5  # a constant unit
    q = torch.linspace(0, 1, 31, dtype=t.dtype)[1:-1]
    reference = torch.quantile(t, q, dim=1).permute(1, 2, 0)
    torch.testing.assert_close(_quantiles_over_samples(t, q), reference, atol=2e-16, rtol=0)  # an ulp
    values = t.permute(0, 2, 1).contiguous()
    expected = torch.searchsorted(reference.contiguous(), values, right=True).permute(0, 2, 1).float()
    assert torch.equal(binning.bin_indices(t, 30, range="adaptive"), expected.clamp_(0, 29))
