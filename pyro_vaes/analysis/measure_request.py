"""Which measures ``evaluate`` computes, where the judge is cached, how progress is told.

A model's measures come in named groups (``model.measure_groups``, e.g. the
CCVAE's ``accuracy``, ``leakage``, ``interventions``, ``diversity``); every run
of ``evaluate`` also has ``likelihood`` (test ELBO and importance-weighted
log-likelihood). ``--measures`` picks a subset. Every figure ``F`` comes with
``F_images``: the number of images it used (and probes with
``F_train_images``, the training images they were fitted on).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyro_vaes.errors import ConfigError

LIKELIHOOD = "likelihood"


def _nothing(name: str) -> None:
    return None


@dataclass
class MeasureRequest:
    """The measure groups to compute (``None``: all), the judge's cache directory, the
    callback told when a group is done, and the seed of the estimates."""

    names: frozenset[str] | None = None
    judge_cache: Path | None = None
    done: Callable[[str], None] = field(default=_nothing)
    seed: int = 0

    def wants(self, *names: str) -> bool:
        """True when any of ``names`` is asked for."""
        return self.names is None or any(name in self.names for name in names)


def measure_groups(model: Any) -> tuple[str, ...]:
    """Every group ``evaluate`` can compute for ``model``, ``likelihood`` first."""
    return (LIKELIHOOD, *model.measure_groups)


def parse_measures(model: Any, text: str | Iterable[str] | None) -> frozenset[str] | None:
    """The groups named in ``text`` (comma-separated, or a list); None for all of them.

    Refuses an unknown name with one line listing the model's groups.
    """
    if text is None:
        return None
    names = [n.strip() for n in (text.split(",") if isinstance(text, str) else text)]
    names = [n for n in names if n]
    valid = measure_groups(model)
    for name in names:
        if name not in valid:
            raise ConfigError(f"--measures {name!r} is not a measure of model '{model.name}'; "
                              f"choose from: {', '.join(valid)}")
    if not names:
        raise ConfigError(f"--measures names no measure; choose from: {', '.join(valid)}")
    return frozenset(names)


def with_image_counts(values: dict[str, Any], images: int) -> dict[str, Any]:
    """``values`` with ``KEY_images = images`` beside each of its figures."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        out[key] = value
        out[f"{key}_images"] = images
    return out
