"""ML-VAE: group content shared by the members of a group, style per member.

Importing the package registers its interventions (swap, generate, interpolate).
"""

from pyro_vaes.models.mlvae import interventions as _interventions  # noqa: F401  (registers)
from pyro_vaes.models.mlvae.config import MLVAEConfig
from pyro_vaes.models.mlvae.model import MLVAE

__all__ = ["MLVAE", "MLVAEConfig"]
