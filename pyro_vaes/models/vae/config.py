"""Options of the VAE / beta-VAE."""

from __future__ import annotations

from dataclasses import dataclass

from pyro_vaes.choices import LIKELIHOOD_NAMES
from pyro_vaes.config import ModelConfig, option


@dataclass
class VAEConfig(ModelConfig):
    """VAE options; ``beta`` > 1 gives the beta-VAE."""

    # Grey-level pixels are continuous: a Normal with a learned scale is a proper density for
    # them and keeps many latents informative on the 8x8 digits, where the soft-target
    # Bernoulli lets all but one collapse (see docs/models/vae.md).
    likelihood: str = option("normal", "likelihood p(x | z)", choices=LIKELIHOOD_NAMES)
    beta: float = option(1.0, "weight of the latent site (beta-VAE), applied with "
                              "poutine.scale", open_min=0.0)
