"""VAE and beta-VAE."""

from pyro_vaes.models.vae.config import VAEConfig
from pyro_vaes.models.vae.model import VAE

__all__ = ["VAE", "VAEConfig"]
