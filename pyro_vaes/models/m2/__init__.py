"""M2: the semi-supervised VAE of Kingma et al. (2014)."""

from __future__ import annotations

from pyro_vaes.lazy import lazy_exports

# Loaded on first use, so that importing the config alone stays free of torch;
# importing the model first imports its interventions, which register themselves.
__getattr__, __dir__ = lazy_exports(__name__, {"M2Config": "pyro_vaes.models.m2.config",
                                               "M2": "pyro_vaes.models.m2.model"},
                                    first={"M2": "pyro_vaes.models.m2.interventions"})

__all__ = ["M2", "M2Config"]
