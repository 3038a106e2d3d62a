"""The SVI loop: batches from a plan, the loss from :class:`SVIObjective`, Adam.

One epoch: for every batch, ``loss = objective(batch)``, backward, optional
gradient clipping, an Adam step. After each epoch the validation measures are
computed (the ELBO, the objective's other terms, label accuracy; under a forked
RNG, so validation never changes the training randomness), the learning-rate
schedule steps, early stopping takes note, the callbacks run (metrics log,
TensorBoard, RUN/best.pt) and the checkpoint is written.

Checkpoints are also written before the first step and every
``config.checkpoint_every`` steps. ``state_dict()`` captures everything needed to
resume bit-for-bit on CPU, from an epoch boundary or from the middle of an epoch:
optimiser, schedule, epoch, history, the position in the epoch (batches consumed,
the data generator's state at the epoch's start, the epoch's running loss) and the
torch RNG state of every process (gathered from all ranks under DDP). A resume in
the middle of an epoch regenerates the epoch's batches from the saved generator state
and skips the consumed ones.

On an accelerator the training images are moved to the device once, before the
first epoch, and the progress bar's loss is read only when the divergence flag is.

A NaN or infinite loss stops training with :class:`TrainingDiverged` before any
checkpoint can record the diverged state. The check keeps no per-step host sync
on accelerators: the first bad step is noted on the device and read every
``DIVERGENCE_CHECK_STEPS`` steps (every step on CPU, where reading is free), at
the end of each epoch and before each checkpoint, which also checks that the
parameters are finite.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import asdict
from typing import Any, Protocol

import torch
from tqdm.auto import tqdm

from pyro_vaes.config import TrainConfig
from pyro_vaes.errors import ConfigError, TrainingDiverged
from pyro_vaes.inference import SVIObjective, make_elbo
from pyro_vaes.models.base import LatentVariableModel
from pyro_vaes.nets.precision import autocast_nets, check_autocast
from pyro_vaes.process import pyro_validation
from pyro_vaes.training import faults
from pyro_vaes.training.distributed import DistributedContext
from pyro_vaes.training.early_stopping import EarlyStopping, check_measure, default_measure
from pyro_vaes.training.plans import PLANS
from pyro_vaes.training.progress import EpochProgress
from pyro_vaes.training.supervised import SupervisedSteps
from pyro_vaes.training.validation import validation_record

DIVERGENCE_CHECK_STEPS = {"cpu": 1}
"""Steps between two reads of the divergence flag, by device type (default 50)."""


class Callback(Protocol):
    """Called after every epoch with the trainer and that epoch's record."""

    def __call__(self, trainer: Trainer, record: dict[str, Any]) -> None: ...


def resolve_device(name: str) -> torch.device:
    """A torch device, refusing CUDA where there is none."""
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ConfigError(f"--device {name!r} is not a torch device; use cpu or cuda:N") from None
    if device.type not in ("cpu", "cuda"):
        raise ConfigError(f"--device {name!r}: only cpu and cuda:N devices are supported; "
                          f"use cpu or cuda:N")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"--device {name}: CUDA is not available on this machine; "
                          f"use --device cpu")
    return device


def make_optimizer(parameters: Iterable[torch.nn.Parameter], lr: float,
                   device: torch.device) -> torch.optim.Optimizer:
    """Adam, fused (one kernel for every parameter) on CPU and CUDA.

    The unfused Adam runs about ten tensor operations per parameter tensor: 21 ms a
    step for the conv CCVAE's 0.8 M parameters on one CPU thread, against 1.5 ms
    fused (docs/benchmarks.md, "Convolutional nets").
    """
    if device.type in ("cpu", "cuda"):
        return torch.optim.Adam(parameters, lr=lr, fused=True)
    return torch.optim.Adam(parameters, lr=lr)


def make_scheduler(optimizer: torch.optim.Optimizer, config: TrainConfig,
                   epochs: int | None = None) -> Any:
    """The per-epoch learning-rate schedule named in the config (over ``epochs``, default
    ``config.epochs``)."""
    if config.lr_schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer,
                                                          T_max=epochs or config.epochs)
    if config.lr_schedule == "exponential":
        return torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=config.lr_decay)
    if config.lr_schedule == "plateau":  # steps with the epoch's mean training loss
        return torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, factor=config.plateau_factor, patience=config.plateau_patience,
            threshold=config.plateau_threshold, threshold_mode="rel",
            cooldown=config.plateau_cooldown)
    return torch.optim.lr_scheduler.ConstantLR(optimizer, factor=1.0, total_iters=0)


class DivergenceWatch:
    """The first optimiser step whose loss was NaN or infinite, noted on the loss's device
    without a host sync; read (and agreed on by every rank) only by :meth:`first_bad`."""

    NONE = 2**62

    def __init__(self, device: torch.device, distributed: DistributedContext) -> None:
        self.first = torch.full((), self.NONE, dtype=torch.long, device=device)
        self.distributed = distributed
        self.every = DIVERGENCE_CHECK_STEPS.get(device.type, 50)

    def observe(self, loss: torch.Tensor, step: int) -> None:
        """Note ``step`` if its loss is not finite and no earlier step was."""
        bad = ~torch.isfinite(loss.detach()) & (self.first == self.NONE)
        self.first = torch.where(bad, step, self.first)

    def due(self, step: int) -> bool:
        return step % self.every == 0

    def first_bad(self) -> int | None:
        """The first bad step over every rank, or None."""
        value = int(self.distributed.min_int(self.first))
        return None if value == self.NONE else value


def describe_position(epoch: int, batch: int) -> str:
    """"the end of epoch 2", "step 5 of epoch 3" or "the start of training"."""
    if batch:
        return f"step {batch} of epoch {epoch + 1}"
    return f"the end of epoch {epoch}" if epoch else "the start of training"


class Trainer:
    """Stochastic variational inference for one model on one data set.

    ``checkpointer(state, best)`` receives :meth:`state_dict` whenever a checkpoint is due
    (before the first step, every ``config.checkpoint_every`` steps, after every epoch, with
    ``best`` true after an epoch that is the best so far by the early-stopping measure);
    under DDP pass it on rank 0 only (every rank takes part in gathering the state).
    """

    def __init__(self, model: LatentVariableModel, splits: Any, config: TrainConfig, *,
                 callbacks: Iterable[Callback] = (), progress: bool | str = False,
                 checkpointer: Callable[[dict[str, Any], bool], None] | None = None) -> None:
        self.config = config
        self.distributed = DistributedContext.from_environment()
        self.device = self.distributed.device(resolve_device(config.device))
        self.model = model.to(self.device)
        self.splits = splits
        elbo_name = config.elbo or model.default_elbo
        model.check_compatible(model.config, elbo_name)
        check_autocast(config.autocast, self.device)
        if config.jit:
            model.check_jit()
        self.elbo = make_elbo(elbo_name, num_particles=config.num_particles,
                              max_plate_nesting=model.max_plate_nesting, jit=config.jit)
        autocast_nets(model, config.autocast)
        self.objective = SVIObjective(model, self.elbo)
        self.step_module: torch.nn.Module = self.objective
        if self.distributed.enabled:
            self.distributed.setup(self.device)
            from torch.nn.parallel import DistributedDataParallel

            self.step_module = DistributedDataParallel(
                self.objective, find_unused_parameters=model.ddp_unused_parameters)
            torch.manual_seed(config.seed + self.distributed.rank)
        self.plan = PLANS[model.plan](model, splits, batch_size=config.batch_size,
                                      device=self.device, labels=config.labels,
                                      labelled_fraction=config.labelled_fraction,
                                      labelled_repeats=config.labelled_repeats,
                                      labelled_batch_every=config.labelled_batch_every,
                                      labels_in_main_loss=config.labels_in_main_loss,
                                      seed=config.seed)
        if self.device.type != "cpu":  # the images live on the device: no copy per batch
            self.plan.splits = splits.to(self.device)
        self.optimizer = make_optimizer(self.objective.parameters(), config.lr, self.device)
        self.scheduler = make_scheduler(self.optimizer, config)
        self.generator = torch.Generator().manual_seed(config.seed)
        self.supervised = SupervisedSteps.build(model, self.plan, config, self.device,
                                                make_optimizer)
        if self.supervised is not None and self.distributed.enabled:
            # their gradients are not averaged across processes, so the ranks would drift
            raise ConfigError("--supervised-steps runs in one process only; train without "
                              "torchrun, or drop --supervised-steps")
        measure = config.early_stop_on or default_measure(model)
        check_measure(measure, model)
        self.early_stopping = EarlyStopping(measure, config.patience)
        self.callbacks = list(callbacks)
        self.progress = progress
        self.checkpointer = checkpointer
        self.epoch = 0
        self.history: list[dict[str, Any]] = []
        # where we are: batches of the current epoch consumed, optimiser steps of the run
        self.batch_index = 0
        self.global_step = 0
        self.last_checkpoint: tuple[int, int] | None = None   # (epoch, batch) last saved
        self._epoch_data_state = self.generator.get_state()
        self._epoch_first_step = 0
        self._loss_sum = torch.zeros((), dtype=torch.float64, device=self.device)
        self._count = 0
        self._seconds = 0.0
        self.watch = DivergenceWatch(self.device, self.distributed)

    # -- one epoch -----------------------------------------------------------------
    def train_epoch(self) -> float:
        """The rest of the current epoch's training batches (all of them unless resumed in
        the middle); returns the epoch's mean loss per data point."""
        self.model.train()
        if self.batch_index == 0:
            self._epoch_data_state = self.generator.get_state()
            self._epoch_first_step = self.global_step
            self._loss_sum.zero_()
            self._count, self._seconds = 0, 0.0
        start = time.perf_counter()
        batches = iter(self.plan.train_batches(self.generator))
        if self.batch_index:  # resumed mid-epoch: replay the consumed batches' draws
            with torch.random.fork_rng(devices=[]):
                for _ in range(self.batch_index):
                    next(batches)
        bar = tqdm(batches, total=self.plan.num_train_batches(), initial=self.batch_index,
                   desc=f"epoch {self.epoch + 1}/{self.config.epochs}", leave=False,
                   disable=self.progress is not True)
        try:
            self._run_batches(bar, start)
        finally:
            bar.close()   # before anything else is printed (an interruption's line)
        self.check_finite()
        total, count = self.distributed.sum(float(self._loss_sum), self._count)
        return total / max(count, 1)

    def _run_batches(self, bar: Any, start: float) -> None:
        """Step through the batches of ``bar`` (the rest of the epoch)."""
        for full_batch in bar:
            self.batch_index += 1
            batch = self.distributed.shard(full_batch)
            if batch is None:
                continue
            loss = self._step(batch)
            if self.watch.due(self.global_step):
                self.check_finite()
                if self.progress is True:  # read only when due: a read waits for a GPU
                    bar.set_postfix(loss=f"{float(loss):.2f}")
            every = self.config.checkpoint_every
            if every and self.global_step % every == 0:
                self._seconds += time.perf_counter() - start   # saved with the checkpoint
                self.save_checkpoint()
                start = time.perf_counter()                    # writing it is not training
        self._seconds += time.perf_counter() - start

    def _step(self, batch: Any) -> torch.Tensor:
        """One optimiser step on one batch; returns the (detached) loss."""
        loss = faults.poison(self.step_module(batch), self.global_step + 1)
        self.optimizer.zero_grad(set_to_none=True)
        (loss * batch.size if self.config.loss_reduction == "sum" else loss).backward()
        if self.config.clip_norm is not None:
            torch.nn.utils.clip_grad_norm_(self.objective.parameters(), self.config.clip_norm)
        self.optimizer.step()
        self.global_step += 1
        loss = loss.detach()
        self.watch.observe(loss, self.global_step)
        self._loss_sum += loss.double() * batch.size
        self._count += batch.size
        if self.supervised is not None:
            self.supervised.run()
        faults.reached("step", self.global_step)
        return loss

    def check_finite(self, parameters: bool = False) -> None:
        """Raise :class:`TrainingDiverged` if a loss so far (or, with ``parameters``, a
        parameter) is NaN or infinite."""
        bad = self.watch.first_bad()
        if bad is None and parameters:
            finite = torch.stack([torch.isfinite(p).all() for p in self.objective.parameters()])
            if not bool(finite.all()):
                bad = self.global_step
        if bad is None:
            return
        in_epoch = bad - self._epoch_first_step
        raise TrainingDiverged(f"the training loss became NaN or infinite at step {in_epoch} "
                               f"of epoch {self.epoch + 1} (step {bad} of the run)")

    def save_checkpoint(self, best: bool = False) -> None:
        """Check that nothing diverged, then hand the state to the checkpointer (``best``:
        the epoch just finished is the best so far by the early-stopping measure). Every
        rank calls this: :meth:`state_dict` gathers the RNG states of all ranks."""
        self.check_finite(parameters=True)
        state = self.state_dict()
        if self.checkpointer is not None:
            self.checkpointer(state, best)
        self.last_checkpoint = (self.epoch, self.batch_index)

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
        (continuing after a resume).

        A fresh trainer first writes a checkpoint of the untrained state, so that the run
        can be resumed from its very first step.
        """
        with pyro_validation(False), warnings.catch_warnings():
            # a NaN loss ends training with one line (check_finite), not Pyro's warnings
            warnings.filterwarnings("ignore", message="Encountered NaN", category=UserWarning)
            return self._fit()

    def _fit(self) -> list[dict[str, Any]]:
        if self.last_checkpoint is None:
            self.save_checkpoint()
        progress = EpochProgress(self.config.epochs, self.epoch, enabled=self.progress)
        try:
            self._epochs(progress)
        finally:
            progress.close()   # also on Ctrl-C: the bars are gone before "Interrupted"
        return self.history

    def _epochs(self, progress: EpochProgress) -> None:
        """Train epoch after epoch until the last one or until early stopping says stop."""
        while self.epoch < self.config.epochs and not self.early_stopping.stopped:
            self.model.on_epoch_start(self.epoch, self.config.epochs)  # hook: schedules
            train_loss = self.train_epoch()
            record = {"epoch": self.epoch + 1, "train_loss": train_loss, **self.validate("val"),
                      "lr": self.optimizer.param_groups[0]["lr"], "seconds": self._seconds}
            if self.supervised is not None:
                record.update(self.supervised.epoch_record())
            if self.config.lr_schedule == "plateau":
                self.scheduler.step(train_loss)
            else:
                self.scheduler.step()
            self.epoch += 1
            self.batch_index = 0
            self.early_stopping.update(record)
            self.history.append(record)
            progress.show(record)
            for callback in self.callbacks:
                callback(self, record)
            self.save_checkpoint(best=self.early_stopping.improved)

    # -- resume ----------------------------------------------------------------------
    def _rank_state(self) -> dict[str, Any]:
        """This process's share of the state: RNG states and the epoch's running loss."""
        state: dict[str, Any] = {"torch": torch.get_rng_state(),
                                 "loss_sum": float(self._loss_sum), "count": self._count}
        if self.device.type == "cuda":
            state["cuda"] = torch.cuda.get_rng_state(self.device)
        return state

    def state_dict(self) -> dict[str, Any]:
        """Everything but the model's weights needed to continue exactly where we are
        (a collective call under DDP: every rank's share is gathered)."""
        ranks = self.distributed.all_gather_object(self._rank_state())
        return {"optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(),
                "epoch": self.epoch,
                "history": list(self.history),
                "position": {"batch": self.batch_index, "global_step": self.global_step,
                             "epoch_first_step": self._epoch_first_step,
                             "epoch_data": self._epoch_data_state, "seconds": self._seconds},
                "ranks": ranks,
                "early_stopping": self.early_stopping.state_dict(),
                **({"supervised": self.supervised.state_dict()} if self.supervised else {}),
                "rng": {"torch": ranks[0]["torch"], "data": self.generator.get_state()}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` saved (this rank's share on every rank)."""
        ranks = state.get("ranks") or [{"torch": state["rng"]["torch"]}]
        world = self.distributed.world_size
        if "ranks" in state and len(ranks) != world:
            raise ConfigError(f"the run was trained by {len(ranks)} process(es) and this is "
                              f"{world}; resume it with the same number (torchrun "
                              f"--nproc-per-node {len(ranks)}) to continue it exactly")
        own = ranks[self.distributed.rank] if len(ranks) == world else ranks[0]
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.epoch = int(state["epoch"])
        self.history = list(state["history"])
        if "early_stopping" in state:  # absent from checkpoints of earlier versions
            self.early_stopping.load_state_dict(state["early_stopping"])
        if self.supervised is not None and "supervised" in state:
            self.supervised.load_state_dict(state["supervised"])
        position = state.get("position", {})
        self.batch_index = int(position.get("batch", 0))
        self.global_step = int(position.get("global_step", 0))
        self._epoch_first_step = int(position.get("epoch_first_step", self.global_step))
        self._seconds = float(position.get("seconds", 0.0))
        torch.set_rng_state(own["torch"])
        if "cuda" in own and self.device.type == "cuda":
            torch.cuda.set_rng_state(own["cuda"], self.device)
        if self.batch_index:
            self._epoch_data_state = position["epoch_data"]
            self.generator.set_state(self._epoch_data_state)
            self._loss_sum.fill_(float(own.get("loss_sum", 0.0)))
            self._count = int(own.get("count", 0))
        else:
            self.generator.set_state(state["rng"]["data"])
        self.last_checkpoint = (self.epoch, self.batch_index)

    def restart_schedule(self) -> None:
        """Start the learning-rate schedule afresh at the current epoch from ``config.lr``
        (a resume changed the rate or the schedule); Adam's moments are kept."""
        for group in self.optimizer.param_groups:
            group["lr"] = group["initial_lr"] = self.config.lr
        self.scheduler = make_scheduler(self.optimizer, self.config,
                                        epochs=max(1, self.config.epochs - self.epoch))

    def train_config_dict(self) -> dict[str, Any]:
        """The training config as a JSON-able dict."""
        return asdict(self.config)
