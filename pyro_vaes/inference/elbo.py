"""ELBO estimators and the loss as an ``nn.Module``.

``SVIObjective`` wraps a model and a Pyro ELBO so that ``objective(batch)``
returns the loss to minimise; because it is an ``nn.Module`` owning the model,
it can be handed to ``torch.nn.parallel.DistributedDataParallel`` unchanged.
"""

from __future__ import annotations

from typing import Any

import torch
from pyro.infer import ELBO, Trace_ELBO, TraceEnum_ELBO, TraceMeanField_ELBO
from torch import nn

from pyro_vaes.errors import ConfigError

ELBO_CLASSES: dict[str, type[ELBO]] = {
    "trace": Trace_ELBO,
    "meanfield": TraceMeanField_ELBO,
    "enum": TraceEnum_ELBO,
}

ELBO_DESCRIPTIONS = {
    "trace": "Trace_ELBO: Monte Carlo for every term (score function for discrete sites)",
    "meanfield": "TraceMeanField_ELBO: analytic KL where a closed form exists",
    "enum": "TraceEnum_ELBO: discrete sites marked for enumeration are summed exactly",
}


def make_elbo(name: str, *, num_particles: int = 1, max_plate_nesting: int = 1) -> ELBO:
    """A Pyro ELBO by name; particles are vectorised in an outer plate."""
    if name not in ELBO_CLASSES:
        raise ConfigError(f"unknown ELBO '{name}'; choose one of: {', '.join(ELBO_CLASSES)}")
    return ELBO_CLASSES[name](num_particles=num_particles,
                              vectorize_particles=num_particles > 1,
                              max_plate_nesting=max_plate_nesting)


class SVIObjective(nn.Module):
    """loss(batch) = the model's objective (negative ELBO per data point, plus its own terms)."""

    def __init__(self, model: nn.Module, elbo: ELBO) -> None:
        super().__init__()
        self.model = model
        self.elbo = elbo

    def forward(self, batch: Any) -> torch.Tensor:
        return self.model.loss(self.elbo, batch)
