"""Early stopping: --patience, the best epoch's weights in RUN/best.pt, exact resume.

The validation measure is scripted (``Trainer.validate`` replaced by a table of values
by epoch) so that the epoch training must stop at is known in advance.
"""

from __future__ import annotations

import json

import pytest
import torch

from pyro_vaes import api
from pyro_vaes.config import TrainConfig
from pyro_vaes.errors import CheckpointError, ConfigError
from pyro_vaes.training import Trainer, load_checkpoint
from pyro_vaes.training.early_stopping import EarlyStopping

SMALL = {"latent_dim": 3, "hidden_dim": 16}
# val_elbo by epoch: best at epoch 2, then three epochs without a new best.
SCRIPT = {1: -50.0, 2: -40.0, 3: -45.0, 4: -41.0, 5: -40.0, 6: -30.0, 7: -20.0, 8: -10.0}


@pytest.fixture
def scripted(monkeypatch):
    def validate(self, split="val", seed=None):
        return {"val_elbo": SCRIPT[self.epoch + 1]}
    monkeypatch.setattr(Trainer, "validate", validate)


def _config(epochs: int, patience: int | None = 3) -> TrainConfig:
    return TrainConfig(epochs=epochs, max_train=200, batch_size=50, seed=2, patience=patience)


def _train(path, epochs: int, patience: int | None = 3, resume: bool = False) -> api.Run:
    return api.train("vae", path, model_options=SMALL, train_config=_config(epochs, patience),
                     resume=resume, figures=False)


def test_the_rule_by_hand():
    stopping = EarlyStopping("val_accuracy", patience=2)
    flags = [stopping.update({"epoch": e, "val_accuracy": v})
             for e, v in enumerate([0.5, 0.7, 0.7, 0.6], start=1)]
    assert flags == [True, True, False, False]          # equal is no improvement
    assert stopping.stopped and stopping.best_epoch == 2 and stopping.best_value == 0.7
    stopping = EarlyStopping("val_elbo")                  # no patience: never stops
    for epoch in range(1, 20):
        stopping.update({"epoch": epoch, "val_elbo": -float(epoch)})
    assert not stopping.stopped and stopping.best_epoch == 1
    assert not EarlyStopping("val_elbo", 1).update({"epoch": 1, "val_elbo": float("nan")})


def test_training_stops_after_patience_epochs_and_keeps_the_best_weights(tmp_path, scripted):
    run = _train(tmp_path / "patient", epochs=8)
    assert [r["epoch"] for r in run.history] == [1, 2, 3, 4, 5]   # epochs 3, 4, 5 no better
    assert "best val_elbo -40.0000 at epoch 2; stopped after 3 epochs" in run.best_epoch_summary
    lines = (tmp_path / "patient" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2, 3, 4, 5]

    two = _train(tmp_path / "two", epochs=2, patience=None)        # the same run, to epoch 2
    best = load_checkpoint(tmp_path / "patient" / "best.pt")
    assert best["epoch"] == 2
    for key, value in two.model.state_dict().items():
        assert torch.equal(best["state_dict"][key], value), key
    loaded = api.load_run(tmp_path / "patient", which="best")
    assert loaded.history[-1]["epoch"] == 2
    assert all(torch.equal(loaded.model.state_dict()[k], v)
               for k, v in two.model.state_dict().items())
    assert api.load_run(tmp_path / "patient").history[-1]["epoch"] == 5

    with pytest.raises(ConfigError, match="stopped early at epoch 5"):
        _train(tmp_path / "patient", epochs=10, resume=True)


def test_resume_continues_the_early_stopping_state_exactly(tmp_path, scripted):
    straight = _train(tmp_path / "straight", epochs=8)
    _train(tmp_path / "resumed", epochs=4)               # stops at 4 before patience runs out
    resumed = _train(tmp_path / "resumed", epochs=8, resume=True)
    # A fresh state after the resume would count from epoch 5 and run on to epoch 8.
    assert [r["epoch"] for r in resumed.history] == [1, 2, 3, 4, 5]
    for key, value in straight.model.state_dict().items():
        assert torch.equal(resumed.model.state_dict()[key], value), key
    assert load_checkpoint(tmp_path / "resumed" / "best.pt")["epoch"] == 2
    # config.json now records --epochs 8 (a change made by the resume) while best.pt was
    # written under --epochs 4: the best weights still load, with their own settings
    best = api.load_run(tmp_path / "resumed", which="best")
    assert best.history[-1]["epoch"] == 2 and best.train_config.epochs == 4
    for key, value in load_checkpoint(tmp_path / "resumed" / "best.pt")["state_dict"].items():
        assert torch.equal(best.model.state_dict()[key], value), key


def test_a_best_checkpoint_of_another_model_is_refused(tmp_path):
    _train(tmp_path / "a", epochs=1, patience=None)
    api.train("vae", tmp_path / "b", model_options={**SMALL, "latent_dim": 4},
              train_config=_config(1, None), figures=False)
    (tmp_path / "b" / "best.pt").replace(tmp_path / "a" / "best.pt")
    with pytest.raises(CheckpointError, match=r"differs from .*best\.pt in --latent-dim;"):
        api.load_run(tmp_path / "a", which="best")


def test_without_patience_all_epochs_run_and_best_pt_follows_the_measure(tmp_path, scripted):
    run = _train(tmp_path / "run", epochs=8, patience=None)
    assert len(run.history) == 8
    assert load_checkpoint(tmp_path / "run" / "best.pt")["epoch"] == 8


def test_refusals(tmp_path):
    with pytest.raises(ConfigError, match="predicts no labels; use --early-stop-on val_elbo"):
        api.train("vae", tmp_path / "a", model_options=SMALL,
                  train_config=TrainConfig(epochs=1, max_train=100, early_stop_on="val_accuracy"))
    assert not (tmp_path / "a").exists()
    _train(tmp_path / "b", epochs=1, patience=None)
    (tmp_path / "b" / "best.pt").unlink()
    with pytest.raises(CheckpointError, match="no best checkpoint"):
        api.load_run(tmp_path / "b", which="best")
