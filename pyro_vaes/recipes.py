"""Training recipes: a model's published way of training it, as one named set of options.

A recipe is nothing but values of the options ``pyro-vaes train MODEL --help`` lists
(training options and the model's own), so every term, weight, schedule, optimiser and
step structure it sets is also an explicit option, and a run trained with ``--recipe
NAME`` is the same run as one trained from the experiment file ``--recipe NAME
--print-config`` writes. Options given on the command line (or in a ``--config`` file)
override the recipe's; ``config.json`` and ``experiment.toml`` record the recipe's name.

Each model declares its recipes in ``pyro_vaes/models/<name>/recipes.py`` as ``RECIPES``;
``elbo`` (the clean-ELBO story of ``docs/models/<name>.md``, the library's defaults) is
always one of them. This module imports neither torch nor Pyro.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from pyro_vaes.config import TrainConfig
from pyro_vaes.errors import ConfigError
from pyro_vaes.models.catalog import model_entry

DEFAULT_RECIPE = "elbo"


@dataclass(frozen=True)
class Recipe:
    """Option values that together make one published training procedure."""

    name: str
    summary: str
    source: str
    train: dict[str, Any] = field(default_factory=dict)
    model_options: dict[str, Any] = field(default_factory=dict)

    def options(self) -> dict[str, Any]:
        """Every option the recipe sets, training and model options in one dict."""
        return {**self.train, **self.model_options}


def recipes_of(model: str) -> dict[str, Recipe]:
    """The recipes of ``model`` by name (``elbo`` first)."""
    return {recipe.name: recipe for recipe in model_entry(model).recipes()}


def get_recipe(model: str, name: str | None) -> Recipe:
    """The recipe ``name`` of ``model`` (``elbo`` for None), or a ConfigError naming the
    valid ones."""
    recipes = recipes_of(model)
    name = name or DEFAULT_RECIPE
    if name not in recipes:
        raise ConfigError(f"model '{model}' has no recipe '{name}'; choose one of: "
                          f"{', '.join(recipes)}")
    return recipes[name]


def recipe_configs(model: str, name: str, train: dict[str, Any] | None = None,
                   model_options: dict[str, Any] | None = None
                   ) -> tuple[TrainConfig, dict[str, Any]]:
    """(TrainConfig, model options) of ``model`` trained by recipe ``name``, with ``train``
    and ``model_options`` overriding the recipe's values, for :func:`pyro_vaes.api.train`."""
    recipe = get_recipe(model, name)
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    values = {**recipe.train, **(train or {}), "recipe": recipe.name}
    unknown = sorted(set(values) - fields)
    if unknown:
        raise ConfigError(f"{unknown[0]} is not a training option; see TrainConfig")
    return TrainConfig(**values), {**recipe.model_options, **(model_options or {})}
