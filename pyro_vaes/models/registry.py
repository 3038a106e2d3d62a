"""Model registry: every model class the library and the command line know by name.

Importing this module imports every model (torch and Pyro with them) and registers
their interventions; :mod:`pyro_vaes.models` loads it on first use.
"""

from __future__ import annotations

from typing import Any

from pyro_vaes.config import from_dict, option_name, validate
from pyro_vaes.errors import ConfigError
from pyro_vaes.models.base import DataInfo, LatentVariableModel
from pyro_vaes.models.catalog import CATALOG, model_entry

MODELS: dict[str, type[LatentVariableModel]] = {
    name: entry.model_class() for name, entry in CATALOG.items()}


def model_class(name: str) -> type[LatentVariableModel]:
    """The model class registered under ``name``."""
    model_entry(name)
    return MODELS[name]


def build_model(name: str, data_info: DataInfo, config: Any = None, *, elbo: str | None = None,
                **options: Any) -> LatentVariableModel:
    """Build a model by name, validating its options against the data and the ELBO.

    ``config`` is the model's config dataclass (or a dict of its fields);
    ``options`` override single fields, e.g. ``build_model("vae", info, latent_dim=4)``.
    """
    cls = model_class(name)
    if config is None:
        config = cls.config_class()
    if isinstance(config, dict):
        config = from_dict(cls.config_class, config)
    for key, value in options.items():
        if not hasattr(config, key):
            raise ConfigError(f"model '{name}' has no option {option_name(key)}; see "
                              f"`pyro-vaes train {name} --help`")
        setattr(config, key, value)
    validate(config)
    cls.check_compatible(config, elbo, data_info)
    return cls(config, data_info)
