"""The SVI loop: batches from a plan, the loss from :class:`SVIObjective`, Adam.

One epoch: for every batch, ``loss = objective(batch)``, backward, optional
gradient clipping, an Adam step. After each epoch the validation measures are
computed (the ELBO, the objective's other terms, label accuracy; under a forked
RNG, so validation never changes the training randomness), the learning-rate
schedule steps and the callbacks run
(metrics log, TensorBoard, checkpoint, figures). ``state_dict()`` captures
everything needed to resume bit-for-bit on CPU: optimiser, schedule, epoch,
history, and the states of the global torch RNG and of the data generator.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import asdict
from typing import Any, Protocol

import pyro
import torch
from tqdm.auto import tqdm

from pyro_vaes.config import TrainConfig
from pyro_vaes.errors import ConfigError
from pyro_vaes.inference import SVIObjective, make_elbo
from pyro_vaes.models.base import LatentVariableModel
from pyro_vaes.training.distributed import DistributedContext
from pyro_vaes.training.early_stopping import EarlyStopping, check_measure, default_measure
from pyro_vaes.training.plans import PLANS
from pyro_vaes.training.progress import EpochProgress
from pyro_vaes.training.validation import validation_record


class Callback(Protocol):
    """Called after every epoch with the trainer and that epoch's record."""

    def __call__(self, trainer: Trainer, record: dict[str, Any]) -> None: ...


def resolve_device(name: str) -> torch.device:
    """A torch device, refusing CUDA where there is none."""
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ConfigError(f"--device {name!r} is not a torch device; use cpu or cuda:N") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"--device {name}: CUDA is not available on this machine; "
                          f"use --device cpu")
    return device


def make_scheduler(optimizer: torch.optim.Optimizer, config: TrainConfig) -> Any:
    """The per-epoch learning-rate schedule named in the config."""
    if config.lr_schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.epochs)
    if config.lr_schedule == "exponential":
        return torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=config.lr_decay)
    return torch.optim.lr_scheduler.ConstantLR(optimizer, factor=1.0, total_iters=0)


class Trainer:
    """Stochastic variational inference for one model on one data set."""

    def __init__(self, model: LatentVariableModel, splits: Any, config: TrainConfig, *,
                 callbacks: Iterable[Callback] = (), progress: bool = False,
                 plan_options: dict[str, Any] | None = None) -> None:
        self.config = config
        self.distributed = DistributedContext.from_environment()
        self.device = self.distributed.device(resolve_device(config.device))
        self.model = model.to(self.device)
        self.splits = splits
        elbo_name = config.elbo or model.default_elbo
        model.check_compatible(model.config, elbo_name)
        self.elbo = make_elbo(elbo_name, num_particles=config.num_particles,
                              max_plate_nesting=model.max_plate_nesting)
        self.objective = SVIObjective(model, self.elbo)
        self.step_module: torch.nn.Module = self.objective
        if self.distributed.enabled:
            self.distributed.setup(self.device)
            from torch.nn.parallel import DistributedDataParallel

            self.step_module = DistributedDataParallel(
                self.objective, find_unused_parameters=getattr(model, "ddp_unused_parameters",
                                                               False))
            torch.manual_seed(config.seed + self.distributed.rank)
        self.plan = PLANS[model.plan](model, splits, batch_size=config.batch_size,
                                      device=self.device, labels=config.labels,
                                      labelled_fraction=config.labelled_fraction,
                                      labelled_repeats=config.labelled_repeats,
                                      labelled_batch_every=config.labelled_batch_every,
                                      seed=config.seed, **(plan_options or {}))
        self.optimizer = torch.optim.Adam(self.objective.parameters(), lr=config.lr)
        self.scheduler = make_scheduler(self.optimizer, config)
        self.generator = torch.Generator().manual_seed(config.seed)
        measure = config.early_stop_on or default_measure(model)
        check_measure(measure, model)
        self.early_stopping = EarlyStopping(measure, config.patience)
        self.callbacks = list(callbacks)
        self.progress = progress
        self.epoch = 0
        self.history: list[dict[str, Any]] = []

    # -- one epoch -----------------------------------------------------------------
    def train_epoch(self) -> float:
        """One pass over the training batches; returns the mean loss per data point."""
        self.model.train()
        total, count = 0.0, 0
        batches = tqdm(self.plan.train_batches(self.generator), total=self.plan.num_train_batches(),
                       desc=f"epoch {self.epoch + 1}/{self.config.epochs}", leave=False,
                       disable=not self.progress)
        for full_batch in batches:
            batch = self.distributed.shard(full_batch)
            if batch is None:
                continue
            loss = self.step_module(batch)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if self.config.clip_norm is not None:
                torch.nn.utils.clip_grad_norm_(self.objective.parameters(), self.config.clip_norm)
            self.optimizer.step()
            value = float(loss.detach())
            if value != value:  # NaN
                raise FloatingPointError(f"loss became NaN at epoch {self.epoch + 1}; "
                                         f"lower --lr or set --clip-norm")
            total += value * batch.size
            count += batch.size
            batches.set_postfix(loss=f"{value:.2f}")
        total, count = self.distributed.sum(total, count)
        return total / max(count, 1)

    @torch.no_grad()
    def validate(self, split: str = "val", seed: int | None = None) -> dict[str, float]:
        """``val_elbo`` (the ELBO itself), the objective's other terms and, for models that
        predict labels, ``val_accuracy`` on a split, under a forked RNG
        (:mod:`pyro_vaes.training.validation`)."""
        self.model.eval()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.config.seed + 1 if seed is None else seed)
            record = validation_record(self.model, self.elbo, self.plan.eval_batches(split))
        self.model.train()
        return record

    def fit(self) -> list[dict[str, Any]]:
        """Train until ``config.epochs`` epochs are done or early stopping says stop
        (continuing after a resume)."""
        pyro.enable_validation(False)
        progress = EpochProgress(self.config.epochs, self.epoch, enabled=self.progress)
        while self.epoch < self.config.epochs and not self.early_stopping.stopped:
            on_epoch_start = getattr(self.model, "on_epoch_start", None)
            if callable(on_epoch_start):  # optional model hook, e.g. an annealing schedule
                on_epoch_start(self.epoch, self.config.epochs)
            start = time.perf_counter()
            train_loss = self.train_epoch()
            seconds = time.perf_counter() - start
            record = {"epoch": self.epoch + 1, "train_loss": train_loss, **self.validate("val"),
                      "lr": self.optimizer.param_groups[0]["lr"], "seconds": seconds}
            self.scheduler.step()
            self.epoch += 1
            self.early_stopping.update(record)
            self.history.append(record)
            progress.show(record)
            for callback in self.callbacks:
                callback(self, record)
        progress.close()
        return self.history

    # -- resume ----------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything but the model's weights needed to continue exactly where we are."""
        return {"optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(),
                "epoch": self.epoch,
                "history": list(self.history),
                "early_stopping": self.early_stopping.state_dict(),
                "rng": {"torch": torch.get_rng_state(), "data": self.generator.get_state()}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` saved."""
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.epoch = int(state["epoch"])
        self.history = list(state["history"])
        if "early_stopping" in state:  # absent from checkpoints of earlier versions
            self.early_stopping.load_state_dict(state["early_stopping"])
        torch.set_rng_state(state["rng"]["torch"])
        self.generator.set_state(state["rng"]["data"])

    def train_config_dict(self) -> dict[str, Any]:
        """The training config as a JSON-able dict."""
        return asdict(self.config)
