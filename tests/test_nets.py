"""Nets as a model option: --net mlp|conv with their widths, for every model and image size."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from pyro_vaes.config import TrainConfig
from pyro_vaes.data import load_dataset
from pyro_vaes.errors import ConfigError, DataError
from pyro_vaes.inference import make_elbo
from pyro_vaes.models import MODELS, Batch, DataInfo, build_model
from pyro_vaes.nets import (
    ConvDecoder,
    ConvEncoder,
    MLPDecoder,
    MLPEncoder,
    SubPixelConv,
    conv_widths,
    default_net,
)
from pyro_vaes.training import Trainer
from tests.conftest import run_cli

SMALL = {"hidden_dim": 48}


def _widths(net: str) -> dict:
    return {**SMALL, "channels": 8} if net == "conv" else dict(SMALL)


def _info(side: int) -> DataInfo:
    return DataInfo(image_shape=(1, side, side), num_classes=10,
                    class_names=[str(k) for k in range(10)])


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize("side", [8, 28])
def test_the_named_nets_are_built_and_recorded(name, side):
    for net, encoder, decoder in (("mlp", MLPEncoder, MLPDecoder),
                                  ("conv", ConvEncoder, ConvDecoder)):
        model = build_model(name, _info(side), {"net": net, **_widths(net)})
        assert isinstance(model.encoder, encoder) and isinstance(model.decoder, decoder)
        assert model.config_dict()["net"] == net
    model = build_model(name, _info(side), dict(SMALL))
    assert model.config_dict()["net"] == default_net((1, side, side))


def test_conv_widths_follow_channels():
    model = build_model("vae", _info(28), {"net": "conv", "channels": 12, "hidden_dim": 40})
    convs = [m for m in model.encoder.modules() if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == conv_widths(2, 12) == [12, 24]
    assert model.encoder.net[-2].out_features == 40
    deconvs = [m for m in model.decoder.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert [d.out_channels for d in deconvs] == [12]
    last = model.decoder.net[-1]
    assert isinstance(last, SubPixelConv) and last.conv.out_channels == 4
    z = torch.randn(3, 5, 10)
    assert model.decoder(z).shape == (3, 5, 1, 28, 28)
    x = torch.rand(2, 3, 1, 28, 28)
    assert model.encoder(x).shape == (2, 3, 40)
    assert model.encoder.net[0].weight.is_contiguous(memory_format=torch.channels_last)
    assert conv_widths(4, 16) == [16, 16, 32, 32]


def test_channels_are_refused_with_the_mlp():
    with pytest.raises(ConfigError, match="--channels only applies with --net conv"):
        build_model("vae", _info(28), {"net": "mlp", "channels": 8})
    with pytest.raises(ConfigError, match="--channels only applies with --net conv"):
        build_model("vae", DataInfo(image_shape=(1, 7, 7)), {"channels": 8})
    assert build_model("vae", _info(8), {"channels": 8}).config.net == "conv"


@pytest.mark.parametrize("shape", [(1, 7, 7), (1, 28, 20), (3, 15, 15)])
def test_conv_is_refused_where_the_side_cannot_halve(shape):
    info = DataInfo(image_shape=shape, num_classes=10)
    with pytest.raises(ConfigError, match="use --net mlp") as error:
        build_model("vae", info, {"net": "conv"})
    assert "\n" not in str(error.value)
    assert isinstance(build_model("vae", info, {"net": "mlp"}).encoder, MLPEncoder)


@pytest.mark.parametrize("name", ["mlvae", "parted", "vae", "m2", "ccvae"])
def test_encoder_and_decoder_modules_can_be_passed_in(name):
    info = _info(8)
    config = MODELS[name].config_class(hidden_dim=32, latent_dim=16)
    # --latent-dim is the total continuous latent; M2's decoder also reads one_hot(y)
    latent = 16 + (10 if name == "m2" else 0)
    encoder = MLPEncoder((1, 8, 8), feature_dim=32, hidden_dim=7)
    decoder = MLPDecoder(latent, (1, 8, 8), hidden_dim=5)
    model = MODELS[name](config, info, encoder=encoder, decoder=decoder)
    assert model.encoder is encoder and model.decoder is decoder
    batch = model.image_batch(torch.rand(4, 1, 8, 8))
    elbo = make_elbo(model.default_elbo, max_plate_nesting=model.max_plate_nesting)
    loss = model.loss(elbo, batch)
    loss.backward()
    assert torch.isfinite(loss) and encoder.net[0].weight.grad.abs().sum() > 0


@pytest.fixture(scope="module")
def datasets():
    sets = {"digits": load_dataset("digits", None, seed=0, max_train=300)}
    try:
        sets["fashion-mnist"] = load_dataset("fashion-mnist", None, seed=0, max_train=300)
    except DataError:  # pragma: no cover - Fashion-MNIST not installed
        pass
    return sets


def _fixed_loss(model, elbo, batches) -> float:
    model.eval()
    with torch.no_grad(), torch.random.fork_rng(devices=[]):
        torch.manual_seed(7)
        total = sum(float(model.loss(elbo, b)) for b in batches)
    model.train()
    return total / len(batches)


@pytest.mark.parametrize("data", ["digits", pytest.param("fashion-mnist", marks=pytest.mark.slow)])
@pytest.mark.parametrize("net", ["mlp", "conv"])
@pytest.mark.parametrize("name", list(MODELS))
def test_every_model_trains_with_either_net_and_lowers_the_loss(datasets, name, net, data):
    if data not in datasets:  # pragma: no cover
        pytest.skip("Fashion-MNIST is not installed")
    splits = datasets[data]
    torch.manual_seed(0)
    model = build_model(name, DataInfo.from_splits(splits), {"net": net, **_widths(net)})
    config = TrainConfig(batch_size=50, lr=5e-3, seed=0, labels=100 if model.plan ==
                         "semi-supervised" else None)
    trainer = Trainer(model, splits, config)
    plan = trainer.plan
    fixed = list(plan.eval_batches("val", batch_size=40))[:2]
    if model.plan == "semi-supervised":  # the unlabelled form too
        fixed += [Batch(b.x, None, b.mask, b.extra) for b in fixed]
    before = _fixed_loss(model, trainer.elbo, fixed)
    trainer.train_epoch()
    after = _fixed_loss(model, trainer.elbo, fixed)
    assert after < before - 0.03 * abs(before), (before, after)


@pytest.mark.slow
def test_the_cli_takes_net_and_widths_and_records_them(tmp_path):
    result = run_cli("train", "vae", "--net", "conv", "--channels", "4", "--hidden-dim", "24",
                     "--epochs", "1", "--max-train", "100", "--out", str(tmp_path / "run"))
    assert result.returncode == 0, result.stderr
    config = json.loads((tmp_path / "run" / "config.json").read_text())["model_config"]
    assert (config["net"], config["channels"], config["hidden_dim"]) == ("conv", 4, 24)
    result = run_cli("train", "vae", "--net", "rnn", "--out", str(tmp_path / "bad"))
    assert result.returncode == 2 and "rnn" in result.stderr
