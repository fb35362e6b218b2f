"""The numpy-backed tanh of infoplane's models against torch.tanh (values and gradients)."""

import pytest
import torch
from infoplane.models import tanh as tanh_module
from infoplane.models.mlp import ACTIVATIONS


@pytest.mark.parametrize("dtype, atol", [(torch.float32, 2e-7), (torch.float64, 1e-15)])
@pytest.mark.parametrize("transposed", [False, True])
def test_numpy_tanh_equals_torch_tanh_in_value_and_gradient(dtype, atol, transposed):
    g = torch.Generator().manual_seed(0)
    base = torch.randn(300, 200, generator=g, dtype=dtype) * 4  # saturated and linear regions
    x = (base.T if transposed else base).clone().requires_grad_(True)
    x_ref = x.detach().clone().requires_grad_(True)
    assert tanh_module._numpy_viewable(x)  # 60000 elements: the numpy path
    out = tanh_module.tanh(x)
    ref = torch.tanh(x_ref)
    assert out.shape == ref.shape
    torch.testing.assert_close(out, ref, atol=atol, rtol=0)
    weights = torch.randn(ref.shape, generator=g, dtype=dtype)
    (out * weights).sum().backward()
    (ref * weights).sum().backward()
    torch.testing.assert_close(x.grad, x_ref.grad, atol=10 * atol, rtol=0)


def test_numpy_tanh_passes_gradcheck(monkeypatch):
    monkeypatch.setattr(tanh_module, "NUMPY_MIN_ELEMENTS", 1)
    x = torch.randn(7, 5, dtype=torch.float64, requires_grad=True)
    assert tanh_module._numpy_viewable(x)
    assert torch.autograd.gradcheck(tanh_module.tanh, (x,))


def test_small_and_integer_tensors_keep_torch_tanh():
    assert not tanh_module._numpy_viewable(torch.zeros(512, 10))  # one network's mini-batch
    assert not tanh_module._numpy_viewable(torch.zeros(300, 300, dtype=torch.float16))
    x = torch.randn(512, 10)
    assert torch.equal(tanh_module.tanh(x), torch.tanh(x))


def test_mlp_activation_tanh_is_the_numpy_backed_module():
    assert ACTIVATIONS["tanh"] is tanh_module.Tanh
