"""--jit: Pyro's compiled ELBOs give the same losses and weights as the eager ones."""

from __future__ import annotations

import json

import pyro
import pytest
import torch

from pyro_vaes import api
from pyro_vaes.config import TrainConfig
from pyro_vaes.errors import ConfigError
from pyro_vaes.inference import make_elbo
from pyro_vaes.inference.jit import JitELBO
from pyro_vaes.models import MODELS, Batch, DataInfo, build_model
from tests.conftest import run_cli

SMALL = {"hidden_dim": 32}


def _train(tmp_path, name: str, jit: bool, **options):
    config = TrainConfig(epochs=1, max_train=150, batch_size=40, seed=2, jit=jit,
                         labels=60 if MODELS[name].plan == "semi-supervised" else None)
    return api.train(name, tmp_path / f"{name}-{jit}", model_options={**SMALL, **options},
                     train_config=config, figures=False)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(MODELS))
def test_training_with_and_without_jit_gives_the_same_losses(tmp_path, name):
    eager = _train(tmp_path, name, False)
    jitted = _train(tmp_path, name, True)
    assert isinstance(make_elbo("enum", jit=True), JitELBO)
    for a, b in zip(eager.history, jitted.history, strict=True):
        assert b["train_loss"] == pytest.approx(a["train_loss"], rel=1e-5)
        assert b["val_elbo"] == pytest.approx(a["val_elbo"], rel=1e-5)
    weights = jitted.model.state_dict()
    for key, value in eager.model.state_dict().items():
        torch.testing.assert_close(weights[key], value, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name,options,elbo,particles", [
    ("vae", {"guide": "flow", "prior": "mixture", "likelihood": "bernoulli"}, "trace", 1),
    ("vae", {"guide": "full", "beta": 3.0}, "meanfield", 2),
    ("m2", {}, "trace", 1),
    ("ccvae", {}, "enum", 2),
    ("mlvae", {"accumulation": "mean", "style_beta": 2.0}, "trace", 1),
])
def test_jit_loss_and_gradients_equal_eager_on_one_batch(name, options, elbo, particles):
    pyro.enable_validation(False)
    info = DataInfo(image_shape=(1, 8, 8), num_classes=10)
    model = build_model(name, info, {**SMALL, **options}, elbo=elbo)
    x, y = torch.rand(12, 1, 8, 8), torch.randint(0, 10, (12,))
    batches = ([Batch(x.reshape(3, 4, 1, 8, 8), y[:3], torch.ones(3, 4, dtype=torch.bool))]
               if name == "mlvae" else [Batch(x), Batch(x, y)])
    params = list(model.parameters())
    results = []
    for jit in (False, True):
        objective = make_elbo(elbo, num_particles=particles,
                              max_plate_nesting=model.max_plate_nesting, jit=jit)
        torch.manual_seed(3)
        out = []
        for batch in batches * 2:  # the second round runs the compiled graph
            loss = model.loss(objective, batch)
            out.append((loss.detach(), torch.autograd.grad(loss, params, allow_unused=True)))
        results.append(out)
    for (loss_a, grads_a), (loss_b, grads_b) in zip(*results, strict=True):
        torch.testing.assert_close(loss_b, loss_a, rtol=1e-5, atol=1e-4)
        for a, b in zip(grads_a, grads_b, strict=True):
            assert (a is None) == (b is None)
            if a is not None:
                torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-4)


def test_jit_is_refused_with_the_low_rank_guide(tmp_path):
    with pytest.raises(ConfigError, match="--jit with --guide lowrank") as error:
        _train(tmp_path, "vae", True, guide="lowrank")
    assert "\n" not in str(error.value)
    assert not (tmp_path / "vae-True").exists()


@pytest.mark.slow
def test_the_cli_records_jit(tmp_path):
    result = run_cli("train", "vae", "--jit", "--epochs", "1", "--max-train", "100",
                     "--out", str(tmp_path / "run"))
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "run" / "config.json").read_text())["train"]["jit"] is True
