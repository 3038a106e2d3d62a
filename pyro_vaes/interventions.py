"""Interventions on trained models: traversals, conditional generation, swaps, flips.

Each model registers the interventions it supports with :func:`register`; the
``pyro-vaes intervene KIND RUN`` command looks them up with
:func:`intervention`. An intervention is a function
``fn(run, out_dir, options) -> list[Path]`` that writes PNG grids (with
labelled axes) into ``out_dir`` and returns their paths; ``options`` is an
:class:`InterventionOptions`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pyro_vaes.errors import ConfigError

if TYPE_CHECKING:    # the command line imports KINDS without torch
    import torch

KINDS = ("traverse", "generate", "swap", "flip", "interpolate")


@dataclass
class InterventionOptions:
    """Options shared by every intervention (each uses the ones that apply)."""

    num_images: int = 6
    steps: int = 9
    num_samples: int = 10
    labels: list[str] = field(default_factory=list)
    span: float = 2.0
    seed: int = 0
    split: str = "test"


Intervention = Callable[[Any, Path, InterventionOptions], list[Path]]
_REGISTRY: dict[tuple[str, str], Intervention] = {}


def register(model: str, kind: str) -> Callable[[Intervention], Intervention]:
    """Decorator: register ``fn`` as intervention ``kind`` of ``model``."""
    if kind not in KINDS:
        raise ValueError(f"unknown intervention kind {kind!r}")

    def decorate(fn: Intervention) -> Intervention:
        _REGISTRY[(model, kind)] = fn
        return fn

    return decorate


def supported(model: str) -> list[str]:
    """The intervention kinds a model supports."""
    return [kind for kind in KINDS if (model, kind) in _REGISTRY]


def intervention(model: str, kind: str) -> Intervention:
    """The registered intervention, or a ConfigError listing what the model supports."""
    try:
        return _REGISTRY[(model, kind)]
    except KeyError:
        valid = ", ".join(supported(model)) or "none"
        raise ConfigError(f"model '{model}' has no '{kind}' intervention; it supports: "
                          f"{valid}") from None


def random_positions(length: int, count: int, generator: torch.Generator) -> torch.Tensor:
    """``count`` distinct positions of ``length`` drawn uniformly (all when fewer), in drawn
    order."""
    import torch

    return torch.randperm(length, generator=generator)[:count]


def first_images(run: Any, options: InterventionOptions) -> tuple[torch.Tensor, torch.Tensor]:
    """The first ``num_images`` images of the split and their labels (read by the model's
    ``label_space``), on the run's device."""
    import torch

    dataset = getattr(run.splits, options.split)
    idx = torch.arange(min(options.num_images, len(dataset)))
    labels = run.model.label_space.of(dataset)
    return dataset.pixels(idx).to(run.device), labels[idx].to(run.device)
