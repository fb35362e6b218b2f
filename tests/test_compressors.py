"""Compressors: round trips (fit, save, load, encode, decode), their reports, and their errors."""

import numpy as np
import pytest
import torch
from infoplane.compressors import fit_compressor, load_compressor
from infoplane.compressors.autoencoder import image_side
from infoplane.tasks import make_task


def test_pca_reconstructs_data_of_its_rank_exactly_and_survives_a_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((500, 3)) @ rng.standard_normal((3, 12)) + 5.0  # rank 3 in 12 dims
    c = fit_compressor("pca", x, latent_dim=3)
    assert c.report["relative_error"] < 1e-20 and c.report["explained_variance"] == pytest.approx(1.0)
    np.testing.assert_allclose(c.decode(c.encode(x)).numpy(), x, atol=1e-9)
    c.save(tmp_path / "pca.pt")
    back = load_compressor(tmp_path / "pca.pt")
    assert torch.equal(back.encode(x), c.encode(x))
    assert back.report == c.report


def test_pca_components_are_ordered_by_variance():
    x = np.random.default_rng(1).standard_normal((2000, 4)) * np.array([1.0, 5.0, 0.1, 2.0])
    z = fit_compressor("pca", x, latent_dim=2).encode(x).numpy()
    assert z[:, 0].std() == pytest.approx(5.0, rel=0.05) and z[:, 1].std() == pytest.approx(2.0, rel=0.05)


@pytest.mark.parametrize("kind", ["pca", "autoencoder"])
def test_latent_dimension_larger_than_the_representation_names_the_key(kind):
    with pytest.raises(ValueError, match=r"latent_dim=17: .* \[1, 16\]"):
        fit_compressor(kind, np.zeros((50, 16)), latent_dim=17)


def test_autoencoder_round_trip_is_deterministic_and_reports_its_fit(tmp_path):
    x, _ = make_task("gaussian_bumps", mi_bits=0.0, size=8, width=0.2).sample(600, seed=0)
    kwargs = dict(latent_dim=2, seed=3, epochs=15, batch_size=32, lr=3e-3, max_relative_error=0.5)
    c = fit_compressor("autoencoder", x, **kwargs)
    again = fit_compressor("autoencoder", x, **kwargs)
    assert torch.equal(c.encode(x), again.encode(x))  # seeded: the same fit twice
    assert len(c.report["history"]) == 15 and c.report["converged"]
    assert c.report["relative_error"] < 0.5  # it learns something: far better than the mean image
    c.save(tmp_path / "ae.pt")
    back = load_compressor(tmp_path / "ae.pt")
    assert torch.equal(back.encode(x), c.encode(x))
    assert torch.allclose(back.decode(back.encode(x[:5])), c.decode(c.encode(x[:5])))
    assert back.decode(back.encode(x[:5])).shape == (5, 64)


def test_autoencoder_that_did_not_converge_warns_and_says_so():
    x, _ = make_task("gaussian_bumps", mi_bits=0.0, size=8, width=0.2).sample(200, seed=0)
    with pytest.warns(UserWarning, match="did not converge.*max_relative_error=0.001"):
        c = fit_compressor("autoencoder", x, latent_dim=2, epochs=1, max_relative_error=0.001)
    assert c.report["converged"] is False


def test_image_shapes_the_autoencoder_cannot_take_are_errors():
    with pytest.raises(ValueError, match="not a square image"):
        image_side(10)
    with pytest.raises(ValueError, match="divisible by 4"):
        image_side(36)
    with pytest.raises(ValueError, match="has 20 pixels"):
        image_side(16, (4, 5))
    assert image_side(32 * 32) == (32, 32)


def test_unknown_compressor_and_foreign_file(tmp_path):
    with pytest.raises(ValueError, match="compressor must be one of"):
        fit_compressor("umap", np.zeros((10, 2)), 1)
    torch.save({"kind": "tsne"}, tmp_path / "x.pt")
    with pytest.raises(ValueError, match="not a saved compressor"):
        load_compressor(tmp_path / "x.pt")
