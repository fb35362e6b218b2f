"""The noisy conv net (Butakov et al. 2024): shapes of every captured representation, noise on at
evaluation, reproducible under a seeded generator, and image sizes it cannot take named in the config."""

import numpy as np
import pytest
import torch
import xarray as xr
from infoplane.config import ConfigError, validate_config
from infoplane.models import model_for_dataset
from infoplane.models.conv import GaussianNoise, NoisyConvNet


def _digits_like(n=40, side=8):
    x = np.random.default_rng(0).random((n, side * side)).astype(np.float32)
    return xr.Dataset({"x": (("sample", "feature"), x), "y": ("sample", np.arange(n) % 10)})


def test_representations_of_every_block_are_captured_flattened():
    model = model_for_dataset(
        {"name": "noisy_conv", "channels": [8, 16, 32], "hidden": [32], "activation": "leaky_relu",
         "noise_std": 1e-3, "dropout": 0.1}, _digits_like())  # fmt: skip
    outs = model(torch.rand(5, 64))
    # 8x8 -> 4x4 x 8, 2x2 x 16, 1x1 x 32, dense 32, softmax 10
    assert [o.shape[1] for o in outs] == [128, 64, 32, 32, 10]
    assert len(outs) == len(model.layers)
    assert torch.allclose(outs[-1].sum(dim=1), torch.ones(5))


def test_noise_is_on_at_evaluation_and_reproducible_under_a_seed():
    model = NoisyConvNet(8, [4, 8], [16], 10, noise_std=0.1, dropout=0.5).eval()
    x = torch.rand(6, 64)
    torch.manual_seed(1)
    a = model(x)
    torch.manual_seed(1)
    b = model(x)
    c = model(x)
    assert all(torch.equal(p, q) for p, q in zip(a, b, strict=True))
    assert not torch.equal(a[0], c[0])  # the representation is random at evaluation


def test_relative_noise_scales_with_the_activations():
    torch.manual_seed(0)
    h = torch.randn(1000, 50) * 7.0
    assert float((GaussianNoise(0.1, relative=True)(h) - h).std()) == pytest.approx(0.7, rel=0.05)
    assert float((GaussianNoise(0.1, relative=False)(h) - h).std()) == pytest.approx(0.1, rel=0.05)


def test_it_trains():
    torch.manual_seed(0)
    model = NoisyConvNet(8, [4, 8], [16], 2, noise_std=1e-3)
    x = torch.rand(64, 64)
    y = (x[:, :32].mean(1) > x[:, 32:].mean(1)).long()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    first = None
    for _ in range(60):
        loss = torch.nn.functional.cross_entropy(model.logits(x), y)
        first = float(loss.detach()) if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(loss.detach()) < 0.5 * first


def test_too_many_blocks_for_the_image_is_an_error_naming_the_key():
    with pytest.raises(ValueError, match="model.channels: 4 conv blocks halve a 8x8 image"):
        NoisyConvNet(8, [4, 4, 4, 4], [8], 10)
    cfg = {
        "datasets": {"digits": {"generator": "digits"}, "toy": {"generator": "tishby12"}},
        "estimators": {"b": {"method": "binning"}},
        "experiments": {
            "deep": {"dataset": "digits", "estimators": ["b"],
                     "model": {"name": "noisy_conv", "channels": [4, 4, 4, 4], "hidden": [8]}},
            "flat": {"dataset": "toy", "estimators": ["b"], "model": {"name": "noisy_conv", "hidden": [8]}},
        },
    }  # fmt: skip
    with pytest.raises(ConfigError) as err:
        validate_config(cfg)
    assert "experiments.deep.model.channels: 4 conv blocks" in str(err.value)
    assert "experiments.flat.model.name: noisy_conv needs square images" in str(err.value)


def test_x_compressor_larger_than_the_inputs_is_an_error_naming_the_key():
    cfg = {
        "datasets": {"digits": {"generator": "digits"}},
        "estimators": {"c": {"method": "pca_wkl", "x_compressor": {"kind": "autoencoder", "latent_dim": 65}}},
        "experiments": {
            "e": {"dataset": "digits", "estimators": ["c"], "model": {"name": "noisy_conv", "hidden": [8]}}
        },
    }
    with pytest.raises(ConfigError, match=r"estimators.c.x_compressor.latent_dim: 65 is larger than the 64 features"):
        validate_config(cfg)
    cfg["estimators"]["c"]["x_compressor"] = {"kind": "umap", "latent_dim": 2}
    with pytest.raises(ConfigError, match=r"estimators.c.x_compressor"):
        validate_config(cfg)
