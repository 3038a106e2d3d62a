"""Options of the VAE / beta-VAE."""

from __future__ import annotations

from dataclasses import dataclass

from pyro_vaes.config import option
from pyro_vaes.models.base import ModelConfig


@dataclass
class VAEConfig(ModelConfig):
    """VAE options; ``beta`` > 1 gives the beta-VAE."""

    beta: float = option(1.0, "weight of the latent site (beta-VAE), applied with "
                              "poutine.scale", open_min=0.0)
