"""CCVAE: characteristic capturing VAE (Joy et al., ICLR 2021)."""

from pyro_vaes.models.ccvae import interventions as _interventions  # noqa: F401  (registers)
from pyro_vaes.models.ccvae.config import CCVAEConfig
from pyro_vaes.models.ccvae.model import CCVAE

__all__ = ["CCVAE", "CCVAEConfig"]
