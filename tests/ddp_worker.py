"""Run under torchrun by test_distributed.py: train, then save this rank's parameters."""

from __future__ import annotations

import sys
from pathlib import Path

import pyro
import torch

from pyro_vaes.config import TrainConfig
from pyro_vaes.data import load_dataset
from pyro_vaes.models import DataInfo, build_model
from pyro_vaes.training import Trainer
from pyro_vaes.training.distributed import DistributedContext

out = Path(sys.argv[1])
context = DistributedContext.from_environment()
config = TrainConfig(epochs=2, max_train=200, batch_size=40, seed=5)
pyro.set_rng_seed(config.seed)
splits = load_dataset("digits", max_train=config.max_train, seed=config.seed)
model = build_model("vae", DataInfo.from_splits(splits), latent_dim=3, hidden_dim=32)
initial = {k: v.clone() for k, v in model.state_dict().items()}
trainer = Trainer(model, splits, config)
history = trainer.fit()
torch.save({"state_dict": model.state_dict(), "initial": initial, "history": history,
            "world_size": context.world_size, "seen": trainer.plan.num_train_batches()},
           out / f"rank{context.rank}.pt")
trainer.distributed.teardown()
