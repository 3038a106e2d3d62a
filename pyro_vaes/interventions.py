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
_USES: dict[tuple[str, str], tuple[str, ...]] = {}
OPTION_FIELDS = ("num_images", "steps", "num_samples", "labels", "span", "seed")
"""The fields of :class:`InterventionOptions` a user sets (``split`` is fixed)."""


def register(model: str, kind: str, *, uses: tuple[str, ...] = OPTION_FIELDS
             ) -> Callable[[Intervention], Intervention]:
    """Decorator: register ``fn`` as intervention ``kind`` of ``model``; ``uses``: the
    fields of :class:`InterventionOptions` it reads (any other one given is refused)."""
    if kind not in KINDS:
        raise ValueError(f"unknown intervention kind {kind!r}")
    unknown = set(uses) - set(OPTION_FIELDS)
    if unknown:
        raise ValueError(f"unknown intervention options {sorted(unknown)}")

    def decorate(fn: Intervention) -> Intervention:
        _REGISTRY[(model, kind)] = fn
        _USES[(model, kind)] = tuple(uses)
        return fn

    return decorate


def _option(name: str) -> str:
    return "--label" if name == "labels" else "--" + name.replace("_", "-")


def unused_options(model: str, kind: str, given: set[str]) -> str | None:
    """Of the options given (field names), those intervention ``kind`` of ``model`` does not
    read: a ``--label`` it would ignore is refused (it names what to act on); the others
    are returned as one sentence to tell the user (None when every one applies)."""
    intervention(model, kind)
    uses = _USES[(model, kind)]
    takes = ", ".join(_option(n) for n in uses) or "no options"
    where = f"`intervene {kind}` of model '{model}' (it takes {takes})"
    if "labels" in given and "labels" not in uses:
        raise ConfigError(f"--label does not apply to {where}; drop it")
    unused = [_option(n) for n in OPTION_FIELDS if n in given and n not in uses]
    if not unused:
        return None
    return f"{', '.join(unused)} {'is' if len(unused) == 1 else 'are'} not used by {where}"


def supported(model: str) -> list[str]:
    """The intervention kinds a model supports."""
    return [kind for kind in KINDS if (model, kind) in _REGISTRY]


def intervention(model: str, kind: str) -> Intervention:
    """The registered intervention, or a ConfigError listing what the model supports."""
    try:
        return _REGISTRY[(model, kind)]
    except KeyError:
        pass
    having = sorted({name for name, k in _REGISTRY if k == kind})
    elsewhere = f"'{kind}' is offered for {', '.join(having)} runs" if having else ""
    own = supported(model)
    if not own:
        models = sorted({name for name, _ in _REGISTRY})
        raise ConfigError(f"model '{model}' has no interventions (they act on the labels or "
                          f"groups of {', '.join(models)} runs; {elsewhere}); for the latents "
                          f"of a '{model}' run use `pyro-vaes analyze traverse RUN`")
    raise ConfigError(f"model '{model}' has no '{kind}' intervention; it supports: "
                      f"{', '.join(own)}{' (' + elsewhere + ')' if elsewhere else ''}")


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
