"""Models: every model the library and the command line know by name.

The names below load on first use (``pyro_vaes.models.registry`` imports every
model, and torch with them), so that importing a model's config, or the
catalogue, stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "MODELS": "pyro_vaes.models.registry",
    "build_model": "pyro_vaes.models.registry",
    "model_class": "pyro_vaes.models.registry",
    "Batch": "pyro_vaes.models.base",
    "DataInfo": "pyro_vaes.models.base",
    "LatentVariableModel": "pyro_vaes.models.base",
    "ModelConfig": "pyro_vaes.config",
    "VAE": "pyro_vaes.models.vae",
    "VAEConfig": "pyro_vaes.models.vae.config",
    "M2": "pyro_vaes.models.m2",
    "CCVAE": "pyro_vaes.models.ccvae",
    "MLVAE": "pyro_vaes.models.mlvae",
    "PartedVAE": "pyro_vaes.models.parted",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name]), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_WHERE])


__all__ = ["CCVAE", "M2", "MLVAE", "MODELS", "VAE", "Batch", "DataInfo", "LatentVariableModel",
           "ModelConfig", "PartedVAE", "VAEConfig", "build_model", "model_class"]
