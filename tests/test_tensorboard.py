"""--tensorboard: scalars, images every epoch, traversals at the end, hparams; read back from
the real event files."""

from __future__ import annotations

import json

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import plugin_data_pb2

from pyro_vaes import api
from pyro_vaes.config import TrainConfig

OPTIONS = {"net": "mlp", "hidden_dim": 32, "latent_dim": 4}


def _train(out, tensorboard):
    config = TrainConfig(epochs=2, max_train=200, batch_size=50, seed=5)
    return api.train("vae", out, model_options=dict(OPTIONS), train_config=config,
                     tensorboard=tensorboard, figures=False)


def _hparams(events: EventAccumulator) -> tuple[dict, list[str]]:
    content = events.PluginTagToContent("hparams")
    start = plugin_data_pb2.HParamsPluginData.FromString(
        content["_hparams_/session_start_info"]).session_start_info
    experiment = plugin_data_pb2.HParamsPluginData.FromString(
        content["_hparams_/experiment"]).experiment
    values = {}
    for key, value in start.hparams.items():
        kind = value.WhichOneof("kind")
        values[key] = getattr(value, kind)
    return values, [info.name.tag for info in experiment.metric_infos]


@pytest.mark.slow
def test_tensorboard_writes_images_traversals_and_hparams_without_changing_training(tmp_path):
    run = _train(tmp_path / "board", tensorboard=True)
    events = EventAccumulator(str(run.directory.tensorboard), size_guidance={"images": 0})
    events.Reload()
    tags = events.Tags()
    assert {"train_loss", "val_elbo"} <= set(tags["scalars"])
    assert [e.step for e in events.Scalars("val_elbo")] == [1, 2]
    for tag in ("reconstructions", "samples"):
        images = events.Images(tag)
        assert [image.step for image in images] == [1, 2], tag
        assert images[0].width >= 32 and images[0].height >= 32
        assert images[0].encoded_image_string.startswith(b"\x89PNG")
    # traversals once, at the last epoch: 9 steps across, one row per latent (4 here)
    (traversal,) = events.Images("traversals")
    assert traversal.step == 2
    side = 8 * 4 + 1                       # 8x8 digits enlarged 4 times, a 1-pixel border
    assert (traversal.width, traversal.height) == (9 * side + 1, 4 * side + 1)
    values, metrics = _hparams(events)
    assert values["model"] == "vae"
    assert values["train/epochs"] == 2 and values["train/seed"] == 5
    assert values["model/latent_dim"] == 4 and values["model/net"] == "mlp"
    assert values["train/clip_norm"] == "none"
    assert {"train_loss", "val_elbo"} <= set(metrics)
    # drawing the images uses a forked RNG: the same numbers as a run without TensorBoard
    plain = _train(tmp_path / "plain", tensorboard=False)

    def losses(r):
        return [{k: v for k, v in json.loads(line).items() if k != "seconds"}
                for line in r.directory.metrics.read_text().splitlines()]
    assert losses(run) == losses(plain)
