"""Models from user code: a factory in a temporary package, wrapped in the model protocol, trained and replayed."""

import sys
import textwrap

import numpy as np
import pytest
import torch
import xarray as xr
from infoplane.config import ConfigError, validate_config
from infoplane.data import as_dataset
from infoplane.extraction import activations
from infoplane.io import load_store
from infoplane.io.parameter_names import parameter_name, store_variable
from infoplane.models import MLP, CapturedModel, FactoryError, model_for_dataset
from infoplane.training import TrainConfig, train

USER_CODE = textwrap.dedent(
    """
    import torch
    from torch import nn

    def small_net(n_inputs, n_classes, width=6):
        return nn.Sequential(nn.Linear(n_inputs, width), nn.Tanh(), nn.Linear(width, n_classes))

    class Encoder(nn.Module):
        def __init__(self, n_inputs, n_classes):
            super().__init__()
            self.encoder = nn.Sequential(nn.Linear(n_inputs, 5), nn.ReLU(), nn.Linear(5, 3), nn.Tanh())
            self.head = nn.Linear(3, n_classes)

        def forward(self, x):
            return self.head(self.encoder(x.flatten(1)))

    def not_a_module(**kwargs):
        return 42
    """
)


@pytest.fixture
def user_package(tmp_path, monkeypatch):
    pkg = tmp_path / "mylab"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "nets.py").write_text(USER_CODE)
    monkeypatch.chdir(tmp_path)  # the factory is imported from the working directory, as the workflow does
    yield pkg
    for name in [m for m in sys.modules if m == "mylab" or m.startswith("mylab.")]:
        del sys.modules[name]


@pytest.fixture
def dataset():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 4)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    return as_dataset(x, y, np.arange(64) < 48, "test", {"seed": 0})


def test_parameter_names_keep_the_mlp_names_and_invert():
    names = [n for n, _ in MLP(4, [3], 2).named_parameters()]
    assert [store_variable(n) for n in names] == ["layer0_weight", "layer0_bias", "layer1_weight", "layer1_bias"]
    for name in [*names, "net.encoder.0.weight", "net.head_1.bias", "net.layers.0.weight_g", "scale"]:
        assert parameter_name(store_variable(name)) == name
    with pytest.raises(ValueError, match="layer3_weight"):
        store_variable("layer3_weight")


def test_default_capture_is_every_top_level_child_but_the_logits(user_package, dataset):
    model = model_for_dataset({"factory": "mylab.nets:small_net", "kwargs": {"width": 6}}, dataset)
    assert isinstance(model, CapturedModel)
    assert model.captured_names == ["0", "1"]  # the Linear and its Tanh; the last Linear gives the logits
    x = torch.as_tensor(dataset["x"].values)
    outs = model(x)
    net = model.net
    assert [tuple(o.shape) for o in outs] == [(64, 6), (64, 6), (64, 2)]
    torch.testing.assert_close(outs[0], net[0](x))
    torch.testing.assert_close(outs[1], torch.tanh(net[0](x)))
    torch.testing.assert_close(outs[2], torch.softmax(net(x), dim=1))
    torch.testing.assert_close(model.logits(x), net(x))
    assert [m for m in model.layers] == [net[0], net[2]]  # every module with a weight
    assert set(model.state_dict()) == {"net.0.weight", "net.0.bias", "net.2.weight", "net.2.bias"}


def test_named_capture_and_flattening(user_package, dataset):
    cfg = {"factory": "mylab.nets:Encoder", "capture": ["encoder.1", "encoder"]}
    model = model_for_dataset(cfg, dataset)
    x = torch.as_tensor(dataset["x"].values)
    outs = model(x)
    enc = model.net.encoder
    torch.testing.assert_close(outs[0], torch.relu(enc[0](x)))
    torch.testing.assert_close(outs[1], enc(x))
    assert len(outs) == 3 and len(model.layers) == 3


def test_trained_and_replayed_like_any_model(user_package, dataset, tmp_path):
    cfg = {"factory": "mylab.nets:Encoder"}
    torch.manual_seed(0)
    model = model_for_dataset(cfg, dataset)
    x = torch.as_tensor(dataset["x"].values)
    y = torch.as_tensor(dataset["y"].values)
    is_train = torch.as_tensor(dataset["is_train"].values)
    train(model, x, y, is_train, TrainConfig(epochs=5, batch_size=16, lr=0.01, l2=0.001), [0, 2, 5], tmp_path / "w")
    weights = load_store(tmp_path / "w" / "weights.zarr", "weights store")
    assert "net.encoder.0.weight" in weights and "net.head.bias" in weights
    fresh = model_for_dataset(cfg, dataset)  # another initialisation: replay must load every weight
    acts = activations(fresh, weights, x)
    assert list(acts.data_vars) == ["layer1", "layer2"] and list(acts["epoch"].values) == [0, 2, 5]
    # The replay of the last capture equals the trained model's own forward (its final weights).
    with torch.no_grad():
        final = model(x)
    for layer, out in enumerate(final, start=1):
        np.testing.assert_allclose(acts[f"layer{layer}"].isel(epoch=-1).values, out.numpy(), rtol=1e-6)
    # and the first capture is not the last: training moved the weights
    assert not np.allclose(acts["layer1"].isel(epoch=0).values, acts["layer1"].isel(epoch=-1).values)


def _config(model):
    return {
        "datasets": {"d": {"generator": "tishby12"}},
        "experiments": {"e": {"dataset": "d", "model": model, "estimators": ["b"]}},
        "estimators": {"b": {"method": "binning", "bins": 30}},
    }


@pytest.mark.parametrize(
    ("factory", "message"),
    [
        ("mylab.nope:small_net", "experiments.e.model.factory: cannot import module 'mylab.nope'"),
        ("mylab.nets:missing", "experiments.e.model.factory: module 'mylab.nets' has no attribute 'missing'"),
        ("mylab.nets", "experiments.e.model.factory: expected 'package.module:function'"),
    ],
)
def test_config_errors_name_the_key(user_package, factory, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(".", r"\.")):
        validate_config(_config({"factory": factory}))


def test_capture_without_factory_is_an_error():
    with pytest.raises(ConfigError, match="experiments.e.model.capture: only a model.factory network takes it"):
        validate_config(_config({"capture": ["layers.0"]}))


def test_valid_factory_config_passes(user_package):
    cfg = validate_config(_config({"factory": "mylab.nets:small_net", "kwargs": {"width": 3}}))
    assert cfg["experiments"]["e"]["model"]["capture"] is None


def test_build_errors_name_the_key(user_package, dataset):
    with pytest.raises(FactoryError, match="model.factory: returned int, not a torch.nn.Module"):
        model_for_dataset({"factory": "mylab.nets:not_a_module"}, dataset)
    with pytest.raises(FactoryError, match=r"model.capture: no module named \['encoder.9'\]"):
        model_for_dataset({"factory": "mylab.nets:Encoder", "capture": ["encoder.9"]}, dataset)
    with pytest.raises(FactoryError, match="model.factory: calling it with model.kwargs"):
        model_for_dataset({"factory": "mylab.nets:small_net", "kwargs": {"depth": 3}}, dataset)


def test_image_shaped_inputs_reach_the_network_unflattened(user_package, dataset):
    x = np.random.default_rng(1).standard_normal((10, 2, 2)).astype(np.float32)
    ds = xr.Dataset(
        {"x": (("sample", "feature", "feature_1"), x), "y": ("sample", np.arange(10) % 2),
         "is_train": ("sample", np.ones(10, bool))}
    )  # fmt: skip
    model = model_for_dataset({"factory": "mylab.nets:Encoder"}, ds)  # Encoder flattens itself
    assert model.net.encoder[0].in_features == 4
    assert [tuple(o.shape) for o in model(torch.as_tensor(x))] == [(10, 3), (10, 2)]
