"""Options of the VAE / beta-VAE."""

from __future__ import annotations

from dataclasses import dataclass

from pyro_vaes.choices import GUIDE_NAMES, LIKELIHOOD_NAMES, PRIOR_NAMES
from pyro_vaes.config import ModelConfig, option


@dataclass
class VAEConfig(ModelConfig):
    """VAE options: the prior and guide families (and their sizes), the likelihood; ``beta``
    > 1 gives the beta-VAE."""

    prior: str = option("normal", "prior p(z)", choices=PRIOR_NAMES)
    guide: str = option("diagonal", "guide family q(z | x)", choices=GUIDE_NAMES)

    # Grey-level pixels are continuous: a Normal with a learned scale is a proper density for
    # them and keeps many latents informative on the 8x8 digits, where the soft-target
    # Bernoulli lets all but one collapse (see docs/models/vae.md).
    likelihood: str = option("normal", "likelihood p(x | z)", choices=LIKELIHOOD_NAMES)
    beta: float = option(1.0, "weight of the latent site (beta-VAE), applied with "
                              "poutine.scale", open_min=0.0)
    mixture_components: int = option(10, "components of the mixture prior", min=1,
                                     applies={"prior": ("mixture",)})
    guide_rank: int = option(2, "rank of the low-rank guide", min=1,
                             applies={"guide": ("lowrank",)})
    flow_layers: int = option(2, "number of flows of the flow guide", min=1, max=64,
                              applies={"guide": ("flow",)})
