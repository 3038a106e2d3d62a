"""The SVI engine: resume, determinism, checkpoints, metrics, TensorBoard, figures."""

from __future__ import annotations

import json

import pytest
import torch

from pyro_vaes import api
from pyro_vaes.config import TrainConfig
from pyro_vaes.errors import CheckpointError, ConfigError
from pyro_vaes.training import load_checkpoint

SMALL = {"latent_dim": 4, "hidden_dim": 32}


def _config(epochs: int, **kw) -> TrainConfig:
    return TrainConfig(epochs=epochs, max_train=300, batch_size=50, seed=3, **kw)


def _same_parameters(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("schedule", ["constant", "exponential"])
def test_resume_gives_identical_parameters(tmp_path, schedule):
    straight = api.train("vae", tmp_path / "straight", model_options=SMALL,
                         train_config=_config(2, lr_schedule=schedule), figures=False)
    api.train("vae", tmp_path / "resumed", model_options=SMALL,
              train_config=_config(1, lr_schedule=schedule), figures=False)
    resumed = api.train("vae", tmp_path / "resumed", resume=True,
                        train_config=_config(2), figures=False)
    assert _same_parameters(straight.model.state_dict(), resumed.model.state_dict())
    assert [r["train_loss"] for r in straight.history] == [r["train_loss"] for r in
                                                          resumed.history]
    lines = (tmp_path / "resumed" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2]


def test_same_seed_same_numbers(tmp_path):
    a = api.train("vae", tmp_path / "a", model_options=SMALL, train_config=_config(2),
                  figures=False)
    b = api.train("vae", tmp_path / "b", model_options=SMALL, train_config=_config(2),
                  figures=False)
    assert _same_parameters(a.model.state_dict(), b.model.state_dict())
    assert a.history[-1]["val_elbo"] == b.history[-1]["val_elbo"]
    c = api.train("vae", tmp_path / "c", model_options=SMALL,
                  train_config=TrainConfig(epochs=2, max_train=300, batch_size=50, seed=4),
                  figures=False)
    assert not _same_parameters(a.model.state_dict(), c.model.state_dict())


def test_run_directory_checkpoint_metrics_tensorboard_and_figures(tmp_path):
    run = api.train("vae", tmp_path / "run", model_options=SMALL, train_config=_config(3),
                    tensorboard=True)
    root = tmp_path / "run"
    checkpoint = torch.load(root / "checkpoint.pt", weights_only=True)
    assert {"config", "state_dict", "optimizer", "scheduler", "rng", "epoch"} <= set(checkpoint)
    assert checkpoint["epoch"] == 3
    assert checkpoint["config"]["model"] == "vae"
    assert json.loads((root / "config.json").read_text()) == run.config_dict()
    records = [json.loads(line) for line in (root / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in records] == [1, 2, 3]
    assert records[-1]["train_loss"] < records[0]["train_loss"]
    for name in ("reconstructions.png", "samples.png", "loss_curves.png"):
        assert (root / "figures" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(root / "tensorboard"))
    events.Reload()
    values = [e.value for e in events.Scalars("val_elbo")]
    assert values == pytest.approx([r["val_elbo"] for r in records], rel=1e-6)


def test_a_new_run_never_overwrites_and_resume_checks_the_model(tmp_path):
    api.train("vae", tmp_path / "run", model_options=SMALL, train_config=_config(1),
              figures=False)
    before = (tmp_path / "run" / "checkpoint.pt").read_bytes()
    with pytest.raises(CheckpointError, match="already exists"):
        api.train("vae", tmp_path / "run", model_options=SMALL, train_config=_config(1))
    with pytest.raises(ConfigError, match="already trained 1 epochs"):
        api.train("vae", tmp_path / "run", resume=True, train_config=_config(1))
    checkpoint = load_checkpoint(tmp_path / "run" / "checkpoint.pt")
    checkpoint["config"]["model"] = "other"
    torch.save(checkpoint, tmp_path / "run" / "checkpoint.pt")
    with pytest.raises(CheckpointError, match="holds a 'other' run"):
        api.train("vae", tmp_path / "run", resume=True, train_config=_config(2))
    (tmp_path / "run" / "checkpoint.pt").write_bytes(before)
    assert (tmp_path / "run" / "checkpoint.pt").read_bytes() == before


def test_corrupt_and_foreign_checkpoints_are_refused(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "checkpoint.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        api.load_run(tmp_path / "run")
    torch.save({"state_dict": {}}, tmp_path / "run" / "checkpoint.pt")
    with pytest.raises(CheckpointError, match="not a pyro_vaes checkpoint"):
        api.load_run(tmp_path / "run")
    with pytest.raises(CheckpointError, match="no such run directory"):
        api.load_run(tmp_path / "missing")


def test_evaluate_reports_elbo_below_importance_weighted_estimate(tmp_path):
    run = api.train("vae", tmp_path / "run", model_options=SMALL, train_config=_config(2),
                    figures=False)
    results = api.evaluate(api.load_run(run.directory.root), num_samples=50)
    assert results["num_points"] == len(run.splits.test)
    assert results["test_elbo"] < results["test_iw_log_likelihood"] < 0
