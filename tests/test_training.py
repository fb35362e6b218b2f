"""Model, capture schedule, gradient statistics, and resumable training."""

import math

import numpy as np
import pandas as pd
import pytest
import torch
from infoplane.data import build_dataset
from infoplane.extraction import activations
from infoplane.io import load_store
from infoplane.models import MLP
from infoplane.training import GradientMoments, TrainConfig, capture_epochs, log_schedule, train


def test_original_schedule_has_274_epochs():
    epochs = log_schedule(8000, 400)
    assert len(epochs) == 274 and epochs[0] == 0 and epochs[-1] == 7999
    assert epochs == sorted(set(epochs))


def test_list_schedule_checks_range():
    assert capture_epochs(10, "list", epochs=[5, 0, 5]) == [0, 5]
    with pytest.raises(ValueError, match="outside"):
        capture_epochs(10, "list", epochs=[11])


def test_mlp_original_architecture_and_init():
    torch.manual_seed(0)
    model = MLP(12, [10, 7, 5, 4, 3], 2, "tanh")
    assert [l.out_features for l in model.layers] == [10, 7, 5, 4, 3, 2]
    for layer in model.layers:
        w = layer.weight.detach()
        std = 1 / math.sqrt(layer.in_features)
        assert w.abs().max() <= 2 * std + 1e-7  # truncated at two standard deviations
        assert torch.all(layer.bias == 0)
    big = MLP(1000, [1000], 2)
    assert big.layers[0].weight.std().item() == pytest.approx(0.88 / math.sqrt(1000), rel=0.03)  # trunc-normal std
    outs = model(torch.rand(4, 12))
    assert [o.shape[1] for o in outs] == [10, 7, 5, 4, 3, 2]
    assert torch.allclose(outs[-1].sum(1), torch.ones(4))


def test_gradient_moments_match_direct_computation():
    rng = np.random.default_rng(0)
    grads = [rng.normal(size=(3, 4)) for _ in range(5)]
    m = GradientMoments(1)
    for g in grads:
        m.add([torch.from_numpy(g)])
    flat = np.stack([g.ravel() for g in grads])
    mean = flat.mean(0)
    s = m.summary()
    assert s["grad_mean_norm_layer1"] == pytest.approx(np.linalg.norm(mean))
    assert s["grad_std_layer1"] == pytest.approx(np.sqrt(np.trace(np.cov(flat.T, bias=True))))


def test_stacked_gradient_moments_equal_each_runs_own():
    from infoplane.training.gradients import StackedGradientMoments

    rng = np.random.default_rng(1)
    grads = [[rng.normal(size=(4, 3, 5)), rng.normal(size=(4, 2))] for _ in range(6)]  # 4 runs, 2 layers
    stacked = StackedGradientMoments(2)
    for batch in grads:
        stacked.add([torch.from_numpy(g) for g in batch])
    for run in range(4):
        alone = GradientMoments(2)
        for batch in grads:
            alone.add([torch.from_numpy(g[run]) for g in batch])
        assert stacked.summary(run) == pytest.approx(alone.summary(), rel=1e-12)


def _setup(seed=0):
    ds = build_dataset("tishby12", seed=0)
    x = torch.as_tensor(ds["x"].values)
    y = torch.as_tensor(ds["y"].values)
    torch.manual_seed(seed)
    return MLP(12, [10, 7, 5, 4, 3], 2, "tanh"), x, y, torch.as_tensor(ds["is_train"].values)


class Kill(Exception):
    pass


class KillAt:
    """A progress object that raises after ``n`` epochs: a job killed mid-training."""

    def __init__(self, n):
        self.n, self.seen = n, 0

    def update(self, k):
        self.seen += k
        if self.seen >= self.n:
            raise Kill


def test_training_learns_and_resumes_identically(tmp_path):
    cfg = TrainConfig(epochs=30, lr=0.01, batch_size=512, seed=1, flush_every=2)
    capture = capture_epochs(30, "list", epochs=[0, 1, 2, 3, 5, 8, 13, 21, 30])

    model, x, y, is_train = _setup()
    train(model, x, y, is_train, cfg, capture, tmp_path / "straight")
    straight_metrics = pd.read_csv(tmp_path / "straight" / "metrics.csv")
    straight_weights = load_store(tmp_path / "straight" / "weights.zarr")
    assert straight_metrics["epoch"].tolist() == capture
    assert straight_metrics["train_accuracy"].iloc[-1] > straight_metrics["train_accuracy"].iloc[0]
    assert (straight_metrics.filter(like="grad_std_layer") > 0).all().all()

    model, x, y, is_train = _setup()
    with pytest.raises(Kill):
        train(model, x, y, is_train, cfg, capture, tmp_path / "killed", progress=KillAt(17))
    model, x, y, is_train = _setup()  # a fresh process: new model, state from the checkpoint
    train(model, x, y, is_train, cfg, capture, tmp_path / "killed")
    resumed_metrics = pd.read_csv(tmp_path / "killed" / "metrics.csv")
    resumed_weights = load_store(tmp_path / "killed" / "weights.zarr")
    pd.testing.assert_frame_equal(straight_metrics, resumed_metrics)
    assert straight_weights.identical(resumed_weights)

    acts = activations(model, straight_weights, x)
    assert set(acts.data_vars) == {f"layer{l}" for l in range(1, 7)}
    assert acts["layer1"].dims == ("epoch", "sample", "unit_layer1")
    assert acts.sizes["epoch"] == len(capture) and acts.sizes["sample"] == 4096
    # the last captured epoch replays to the trained model's own output
    with torch.no_grad():
        np.testing.assert_allclose(acts["layer6"].isel(epoch=-1).values, model(x)[-1].numpy(), atol=1e-6)
