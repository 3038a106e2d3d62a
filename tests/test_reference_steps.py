"""The hand-written losses of the step-overhead benchmark equal the library's, value and
gradient, on the same weights and the same noise (so the benchmark compares like with like)."""

from __future__ import annotations

import pyro
import pytest
import torch

from pyro_vaes.inference import make_elbo
from pyro_vaes.models import MODELS, Batch, DataInfo, build_model
from runners.benchmarks.reference_steps import REFERENCE_LOSSES


@pytest.fixture(autouse=True)
def _float64():
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    pyro.enable_validation(False)
    yield
    torch.set_default_dtype(old)


def _batches(name: str, side: int) -> dict[str, Batch]:
    x = torch.rand(12, 1, side, side)
    y = torch.randint(0, 10, (12,))
    if name == "mlvae":
        mask = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0], [1, 0, 0, 0]], dtype=torch.bool)
        return {"groups": Batch(x.reshape(3, 4, 1, side, side), y[:3], mask)}
    return {"unlabelled": Batch(x), "labelled": Batch(x, y)}


@pytest.mark.parametrize("side,net", [(8, "mlp"), (8, "conv"), (16, "conv")])
@pytest.mark.parametrize("name", list(MODELS))
def test_reference_loss_and_gradients_equal_the_library(name, side, net):
    info = DataInfo(image_shape=(1, side, side), num_classes=10,
                    class_names=[str(k) for k in range(10)])
    torch.manual_seed(0)
    widths = {"hidden_dim": 24, **({"channels": 3} if net == "conv" else {})}
    model = build_model(name, info, {"net": net, **widths})
    if name == "ccvae":
        model.observe_labelled(torch.tensor([0, 0, 1, 2, 3]))  # a non-uniform p(y)
    elbo = make_elbo(model.default_elbo, max_plate_nesting=model.max_plate_nesting)
    params = list(model.parameters())
    for kind, batch in _batches(name, side).items():
        torch.manual_seed(5)
        library = model.loss(elbo, batch)
        library_grads = torch.autograd.grad(library, params, allow_unused=True)
        torch.manual_seed(5)
        reference = REFERENCE_LOSSES[name](model, batch)
        reference_grads = torch.autograd.grad(reference, params, allow_unused=True)
        assert float(reference.detach()) == pytest.approx(float(library.detach()), rel=1e-10), kind
        used = 0
        for a, b in zip(library_grads, reference_grads, strict=True):
            assert (a is None) == (b is None), kind
            if a is not None:
                torch.testing.assert_close(b, a, rtol=1e-8, atol=1e-10)
                used += 1
        assert used > 4


def test_a_different_noise_gives_a_different_loss():
    """The agreement above is not an accident of a noise-free loss."""
    info = DataInfo(image_shape=(1, 8, 8), num_classes=10)
    model = build_model("vae", info, {"net": "mlp", "hidden_dim": 16})
    batch = Batch(torch.rand(6, 1, 8, 8))
    torch.manual_seed(1)
    first = REFERENCE_LOSSES["vae"](model, batch).item()
    torch.manual_seed(2)
    assert REFERENCE_LOSSES["vae"](model, batch).item() != first
