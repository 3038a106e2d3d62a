"""Class-related / class-independent VAE ("parted"): class c, class-related u, class-free z.

Importing the package registers its interventions (traverse, generate, swap).
"""

from pyro_vaes.models.parted import interventions as _interventions  # noqa: F401  (registers)
from pyro_vaes.models.parted.config import PartedConfig
from pyro_vaes.models.parted.model import PartedVAE

__all__ = ["PartedConfig", "PartedVAE"]
