"""Runs written before every model took only its own options still load and resume.

Earlier versions recorded the VAE's prior and guide options (and the class-related model's
fixed prior) in every model's ``model_config``; a run directory holding them must load,
evaluate and resume, the extra keys ignored.
"""

from __future__ import annotations

import json

import pytest

from pyro_vaes import api
from pyro_vaes.config import TrainConfig
from pyro_vaes.training.checkpoint import load_checkpoint, save_checkpoint

OLD_KEYS = {"m2": {"prior": "normal", "guide": "diagonal", "mixture_components": 10,
                   "guide_rank": 2, "flow_layers": 2},
            "parted": {"prior": "mixture", "mixture_components": 10, "guide": "diagonal",
                       "guide_rank": 2, "flow_layers": 2}}


def _with_old_keys(root, model):
    """Write the run's recorded model options as the earlier versions did."""
    for path in (root / "checkpoint.pt", root / "best.pt"):
        if path.exists():
            checkpoint = load_checkpoint(path)
            checkpoint["config"]["model_config"].update(OLD_KEYS[model])
            checkpoint.pop("format")
            save_checkpoint(path, checkpoint)
    config = json.loads((root / "config.json").read_text())
    config["model_config"].update(OLD_KEYS[model])
    (root / "config.json").write_text(json.dumps(config))


@pytest.mark.parametrize("model", sorted(OLD_KEYS))
def test_a_run_recorded_with_the_old_keys_loads_and_resumes(tmp_path, model):
    root = tmp_path / model
    api.train(model, root, model_options={"hidden_dim": 16},
              train_config=TrainConfig(max_train=64, batch_size=32, epochs=1, labels=32),
              figures=False)
    _with_old_keys(root, model)
    loaded = api.load_run(root)
    assert not set(OLD_KEYS[model]) & set(loaded.model.config_dict())
    resumed = api.resume_run(root, epochs=2, figures=False)
    assert [r["epoch"] for r in resumed.history] == [1, 2]
