"""Model registry: every model the library and the command line know by name."""

from __future__ import annotations

from typing import Any

from pyro_vaes.config import from_dict, option_name, validate
from pyro_vaes.errors import ConfigError
from pyro_vaes.models.base import Batch, DataInfo, LatentVariableModel, ModelConfig
from pyro_vaes.models.ccvae import CCVAE
from pyro_vaes.models.m2 import M2
from pyro_vaes.models.mlvae import MLVAE
from pyro_vaes.models.parted import PartedVAE
from pyro_vaes.models.vae import VAE, VAEConfig

MODELS: dict[str, type[LatentVariableModel]] = {
    VAE.name: VAE,
    M2.name: M2,
    CCVAE.name: CCVAE,
    MLVAE.name: MLVAE,
    PartedVAE.name: PartedVAE,
}


def model_class(name: str) -> type[LatentVariableModel]:
    """The model class registered under ``name``."""
    try:
        return MODELS[name]
    except KeyError:
        raise ConfigError(f"unknown model '{name}'; choose one of: {', '.join(MODELS)}") from None


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


__all__ = ["MODELS", "Batch", "DataInfo", "LatentVariableModel", "ModelConfig", "VAE",
           "VAEConfig", "build_model", "model_class"]
