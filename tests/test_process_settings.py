"""Library calls leave process-wide settings as they found them: Pyro's validation flags and
torch's intra-op thread count are the same before and after training and the mutual-information
analysis (whatever they were set to, and also when the call fails)."""

from __future__ import annotations

import pyro
import pyro.distributions
import pyro.infer.util
import pyro.poutine.util
import pytest
import torch

from pyro_vaes import api
from pyro_vaes.analysis import mixture_mutual_information
from pyro_vaes.config import TrainConfig
from pyro_vaes.process import pyro_validation, torch_threads


def settings() -> tuple[bool, bool, bool, bool, int]:
    """Every flag ``pyro.enable_validation`` sets, torch's own, and the thread count."""
    return (pyro.distributions.is_validation_enabled(), pyro.infer.util.is_validation_enabled(),
            pyro.poutine.util.is_validation_enabled(),
            torch.distributions.Distribution._validate_args, torch.get_num_threads())


@pytest.fixture(params=[(True, 2), (False, 1)], ids=["validation-on-2-threads",
                                                     "validation-off-1-thread"])
def process(request):
    validate, threads = request.param
    before = settings()
    pyro.enable_validation(validate)
    torch.set_num_threads(threads)
    yield settings()
    pyro.enable_validation(before[0])
    torch.set_num_threads(before[-1])


def test_training_restores_pyro_validation_and_threads(process, tmp_path):
    run = api.train("vae", tmp_path / "run", model_options={"hidden_dim": 16, "latent_dim": 2},
                    train_config=TrainConfig(max_train=64, batch_size=32, epochs=1),
                    figures=False)
    assert run.history and settings() == process


def test_mutual_information_restores_threads(process):
    generator = torch.Generator().manual_seed(0)
    loc, scale = torch.randn(300, 4, generator=generator), 0.5 + torch.rand(300, 4)
    mixture_mutual_information(loc, scale, num_samples=2, generator=generator)
    assert settings() == process


def test_the_context_managers_restore_after_an_error(process):
    with pytest.raises(RuntimeError), torch_threads(3), pyro_validation(not process[0]):
        assert torch.get_num_threads() == 3
        assert pyro.distributions.is_validation_enabled() is not process[0]
        raise RuntimeError("inside")
    assert settings() == process
