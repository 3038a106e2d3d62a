"""Class-related / class-independent VAE ("parted"): class c, class-related u, class-free z.

Loading the model class registers its interventions (traverse, generate, swap).
"""

from __future__ import annotations

from pyro_vaes.lazy import lazy_exports

# Loaded on first use, so that importing the config alone stays free of torch;
# importing the model first imports its interventions, which register themselves.
__getattr__, __dir__ = lazy_exports(__name__, {"PartedConfig": "pyro_vaes.models.parted.config",
                                               "PartedVAE": "pyro_vaes.models.parted.model"},
                                    first={"PartedVAE": "pyro_vaes.models.parted.interventions"})

__all__ = ["PartedVAE", "PartedConfig"]
