"""M2: the semi-supervised VAE of Kingma et al. (2014)."""

from pyro_vaes.models.m2 import interventions as _interventions  # noqa: F401  (registers)
from pyro_vaes.models.m2.config import M2Config
from pyro_vaes.models.m2.model import M2

__all__ = ["M2", "M2Config"]
