"""VAE and beta-VAE."""

from __future__ import annotations

from pyro_vaes.lazy import lazy_exports

# Loaded on first use, so that importing the config alone stays free of torch.
__getattr__, __dir__ = lazy_exports(__name__, {"VAEConfig": "pyro_vaes.models.vae.config",
                                               "VAE": "pyro_vaes.models.vae.model"})

__all__ = ["VAE", "VAEConfig"]
