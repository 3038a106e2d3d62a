"""The SVI training engine: plans, the loop, checkpoints and callbacks."""

from pyro_vaes.training.checkpoint import load_checkpoint, save_checkpoint
from pyro_vaes.training.plans import PLANS, SemiSupervisedPlan, UnsupervisedPlan
from pyro_vaes.training.trainer import Callback, Trainer, resolve_device

__all__ = ["PLANS", "Callback", "SemiSupervisedPlan", "Trainer", "UnsupervisedPlan",
           "load_checkpoint", "resolve_device", "save_checkpoint"]
