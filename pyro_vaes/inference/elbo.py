"""ELBO estimators and the loss as an ``nn.Module``.

``SVIObjective`` wraps a model and a Pyro ELBO so that ``objective(batch)``
returns the loss to minimise; because it is an ``nn.Module`` owning the model,
it can be handed to ``torch.nn.parallel.DistributedDataParallel`` unchanged.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import torch
from pyro import poutine
from pyro.infer import ELBO, TraceEnum_ELBO
from torch import nn

from pyro_vaes.errors import ConfigError
from pyro_vaes.inference.elbo_classes import ELBO_CLASSES, ELBO_DESCRIPTIONS, sample_instead
from pyro_vaes.inference.host_reads import no_host_reads, reads_cost_a_sync
from pyro_vaes.inference.jit import JitELBO


def make_elbo(name: str, *, num_particles: int = 1, max_plate_nesting: int = 1,
              jit: bool = False) -> ELBO:
    """A Pyro ELBO by name; particles are vectorised in an outer plate.

    ``jit=True`` gives Pyro's compiled twin (JitTrace_ELBO, JitTraceMeanField_ELBO,
    JitTraceEnum_ELBO) through :class:`pyro_vaes.inference.jit.JitELBO`.
    """
    if name not in ELBO_CLASSES:
        raise ConfigError(f"unknown ELBO '{name}'; choose one of: {', '.join(ELBO_CLASSES)}")
    options = {"num_particles": num_particles, "vectorize_particles": num_particles > 1,
               "max_plate_nesting": max_plate_nesting}
    if jit:
        return JitELBO(name, **options)
    return ELBO_CLASSES[name](**options)


def negative_elbo(elbo: ELBO, model: Callable[..., Any], guide: Callable[..., Any],
                  *args: Any) -> torch.Tensor:
    """Pyro's negative ELBO summed over the batch, for any model and any of the ELBOs.

    - Guide sites marked for enumeration are sampled instead (score-function
      gradients) when ``elbo`` cannot enumerate (anything but TraceEnum_ELBO).
    - With gradients on it is ``differentiable_loss``; under ``torch.no_grad``
      (validation) the plain ``loss``, since TraceEnum_ELBO refuses to
      differentiate there.
    - A labelled batch of an enumerating model has nothing left to enumerate;
      Pyro's warning about that is expected and silenced.
    - A :class:`JitELBO` compiles the gradient-carrying loss and evaluates the
      no-gradient one eagerly.
    - Off the CPU, Pyro's own reads of the loss on the host (NaN warnings,
      ``torch_item``) are switched off (:mod:`pyro_vaes.inference.host_reads`).
    """
    device = next((a.device for a in args if torch.is_tensor(a)), None)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*found no sample sites configured")
        if isinstance(elbo, JitELBO):
            if torch.is_grad_enabled():
                return elbo.differentiable_loss(model, guide, *args)
            elbo = elbo.eager
        if not isinstance(elbo, TraceEnum_ELBO):
            guide = poutine.infer_config(guide, sample_instead)
        if torch.is_grad_enabled():
            with no_host_reads(reads_cost_a_sync(device)):
                return elbo.differentiable_loss(model, guide, *args)
        return torch.tensor(float(elbo.loss(model, guide, *args)), device=device)


class SVIObjective(nn.Module):
    """loss(batch) = the model's objective (negative ELBO per data point, plus its own terms)."""

    def __init__(self, model: nn.Module, elbo: ELBO) -> None:
        super().__init__()
        self.model = model
        self.elbo = elbo

    def forward(self, batch: Any) -> torch.Tensor:
        return self.model.loss(self.elbo, batch)


__all__ = ["ELBO_CLASSES", "ELBO_DESCRIPTIONS", "SVIObjective", "make_elbo", "negative_elbo",
           "sample_instead"]
