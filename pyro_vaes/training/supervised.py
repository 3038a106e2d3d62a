"""Supervised steps outside the main objective (``--supervised-steps N``).

Some published recipes use the labels only through a separate classifier update: after
every step on the main objective, N cross-entropy steps, each on ``--supervised-batch-size``
labelled images drawn at random, with an Adam optimiser of their own (``--supervised-lr``)
over the parameters the model's classifier q(c | x) uses. The class-related VAE's authors
train this way (one step of 64 images per iteration, Adam 5e-4, on the trunk and the class
head). A model offers it through two hooks of :class:`LatentVariableModel`:
``supervised_parameters()`` and ``supervised_loss(batch)`` (mean cross-entropy).

The draws come from a generator of their own, saved with every checkpoint, so that a
resumed run continues them exactly and the main batches are unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch

from pyro_vaes.config import TrainConfig
from pyro_vaes.errors import ConfigError

OptimizerFactory = Callable[[Iterable[torch.nn.Parameter], float, torch.device],
                            torch.optim.Optimizer]
"""(parameters, learning rate, device) -> optimiser: the trainer's ``make_optimizer``."""


class SupervisedSteps:
    """The extra optimiser, its generator and the epoch's running loss."""

    def __init__(self, model: Any, plan: Any, config: TrainConfig,
                 parameters: list[torch.nn.Parameter], device: torch.device,
                 make_optimizer: OptimizerFactory) -> None:
        self.model = model
        self.plan = plan
        self.steps = config.supervised_steps
        self.batch_size = config.supervised_batch_size
        self.optimizer = make_optimizer(parameters, config.supervised_lr, device)
        self.parameters = parameters
        self.generator = torch.Generator().manual_seed(config.seed + 7919)
        self.count = 0          # supervised steps taken in the run
        # the current epoch's loss, summed on the device: read once an epoch, never per step
        self._loss_sum = torch.zeros((), dtype=torch.float64, device=device)
        self._epoch_steps = 0

    @classmethod
    def build(cls, model: Any, plan: Any, config: TrainConfig, device: torch.device,
              make_optimizer: OptimizerFactory) -> SupervisedSteps | None:
        """The steps ``config`` asks for, or None; refuses a model that offers none and
        options that apply only to them."""
        defaults = TrainConfig()
        if config.supervised_steps == 0:
            for name in ("supervised_batch_size", "supervised_lr"):
                if getattr(config, name) != getattr(defaults, name):
                    flag = "--" + name.replace("_", "-")
                    raise ConfigError(f"{flag} only applies with --supervised-steps 1 or more; "
                                      f"drop {flag} or set --supervised-steps")
            if not config.labels_in_main_loss:
                raise ConfigError("--no-labels-in-main-loss leaves the labels unused; give "
                                  "--supervised-steps 1 or more, or drop "
                                  "--no-labels-in-main-loss")
            return None
        parameters = model.supervised_parameters()
        if not parameters:
            raise ConfigError(f"model '{model.name}' offers no separate supervised steps; drop "
                              f"--supervised-steps (models that do: parted)")
        if not hasattr(plan, "random_labelled_batch"):
            raise ConfigError("--supervised-steps needs labelled data; give --labels N")
        return cls(model, plan, config, list(parameters), device, make_optimizer)

    def run(self) -> None:
        """The configured number of cross-entropy steps on random labelled batches."""
        for _ in range(self.steps):
            batch = self.plan.random_labelled_batch(self.batch_size, self.generator)
            loss = self.model.supervised_loss(batch)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            self.count += 1
            self._epoch_steps += 1
            self._loss_sum += loss.detach().double()

    def epoch_record(self) -> dict[str, float]:
        """The epoch's mean supervised cross-entropy and its number of steps; starts the
        next epoch's sums."""
        record = {"supervised_loss": float(self._loss_sum) / max(self._epoch_steps, 1),
                  "supervised_steps": self._epoch_steps}
        self._loss_sum.zero_()
        self._epoch_steps = 0
        return record

    def state_dict(self) -> dict[str, Any]:
        return {"optimizer": self.optimizer.state_dict(), "generator": self.generator.get_state(),
                "count": self.count, "loss_sum": float(self._loss_sum),
                "epoch_steps": self._epoch_steps}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.optimizer.load_state_dict(state["optimizer"])
        self.generator.set_state(state["generator"])
        self.count = int(state["count"])
        self._loss_sum.fill_(float(state["loss_sum"]))
        self._epoch_steps = int(state["epoch_steps"])
