"""Models: every model the library and the command line know by name.

The names below load on first use (``pyro_vaes.models.registry`` imports every
model, and torch with them), so that importing a model's config, or the
catalogue, stays light.
"""

from __future__ import annotations

from pyro_vaes.lazy import lazy_exports

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
__getattr__, __dir__ = lazy_exports(__name__, _WHERE)


__all__ = ["CCVAE", "M2", "MLVAE", "MODELS", "VAE", "Batch", "DataInfo", "LatentVariableModel",
           "ModelConfig", "PartedVAE", "VAEConfig", "build_model", "model_class"]
