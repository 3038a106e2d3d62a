"""CCVAE: characteristic capturing VAE (Joy et al., ICLR 2021)."""

from __future__ import annotations

from pyro_vaes.lazy import lazy_exports

# Loaded on first use, so that importing the config alone stays free of torch;
# importing the model first imports its interventions, which register themselves.
__getattr__, __dir__ = lazy_exports(__name__, {"CCVAEConfig": "pyro_vaes.models.ccvae.config",
                                               "CCVAE": "pyro_vaes.models.ccvae.model"},
                                    first={"CCVAE": "pyro_vaes.models.ccvae.interventions"})

__all__ = ["CCVAE", "CCVAEConfig"]
