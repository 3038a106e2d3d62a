"""The models the library knows, described without importing them.

The command line is generated from each model's config dataclass; this
catalogue names, for every model, where its class and its config live, its one-line
description and how its data are batched (``plan``), so that ``pyro-vaes --help``,
``pyro-vaes train MODEL --help`` and every usage error answer without loading torch
or Pyro. The model classes carry the same ``name``, ``description`` and ``plan``
(``tests/test_deferred_imports.py`` checks that both agree).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from pyro_vaes.errors import ConfigError


@dataclass(frozen=True)
class ModelEntry:
    """Where one model lives, and what the command line shows of it."""

    name: str
    package: str
    class_name: str
    config_name: str
    description: str
    plan: str = "unsupervised"
    elbos: tuple[str, ...] = ("trace", "meanfield", "enum")
    predicts_labels: bool = False

    def train_choices(self) -> dict[str, tuple[str, ...]]:
        """The values of the training options with choices that this model accepts (the
        model class's ``train_choices``, without importing it)."""
        measures = ("val_elbo", "val_accuracy") if self.predicts_labels else ("val_elbo",)
        return {"elbo": self.elbos, "early_stop_on": measures,
                "recipe": tuple(recipe.name for recipe in self.recipes())}

    def recipes(self) -> tuple:
        """The model's training recipes (:mod:`pyro_vaes.recipes`; a torch-free import)."""
        return tuple(importlib.import_module(f"{self.package}.recipes").RECIPES)

    def config_class(self) -> type:
        """The model's config dataclass (a torch-free import)."""
        return getattr(importlib.import_module(f"{self.package}.config"), self.config_name)

    def model_class(self) -> type:
        """The model class (imports torch and Pyro)."""
        return getattr(importlib.import_module(self.package), self.class_name)


CATALOG: dict[str, ModelEntry] = {entry.name: entry for entry in (
    ModelEntry("vae", "pyro_vaes.models.vae", "VAE", "VAEConfig",
               "VAE / beta-VAE (--beta): z ~ p(z), x ~ p(x | z)"),
    ModelEntry("m2", "pyro_vaes.models.m2", "M2", "M2Config",
               "M2 (Kingma et al.): y ~ Cat, z ~ N(0, I), x ~ p(x | y, z) (semi-supervised)",
               "semi-supervised", ("enum", "trace"), True),
    ModelEntry("ccvae", "pyro_vaes.models.ccvae", "CCVAE", "CCVAEConfig",
               "CCVAE: characteristic latents z_c per label, style z_s, p(z_c | y), "
               "diagonal q(y | z_c) (semi-supervised)", "semi-supervised", ("enum", "trace"),
               True),
    ModelEntry("mlvae", "pyro_vaes.models.mlvae", "MLVAE", "MLVAEConfig",
               "ML-VAE: groups sharing a label (--group-by) share content c, "
               "each member has its own style s", "grouped", ("meanfield", "trace")),
    ModelEntry("parted", "pyro_vaes.models.parted", "PartedVAE", "PartedConfig",
               "class-related / class-independent VAE: class c, class-related u with a "
               "per-class Gaussian prior, class-independent z (semi-supervised, --labels N)",
               "semi-supervised", ("enum",), True),
)}


def model_entry(name: str) -> ModelEntry:
    """The catalogue entry of ``name``, or a ConfigError listing the models."""
    try:
        return CATALOG[name]
    except KeyError:
        raise ConfigError(f"unknown model '{name}'; choose one of: {', '.join(CATALOG)}") from None
