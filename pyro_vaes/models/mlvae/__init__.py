"""ML-VAE: group content shared by the members of a group, style per member.

Loading the model class registers its interventions (swap, generate, interpolate).
"""

from __future__ import annotations

from pyro_vaes.lazy import lazy_exports

# Loaded on first use, so that importing the config alone stays free of torch;
# importing the model first imports its interventions, which register themselves.
__getattr__, __dir__ = lazy_exports(__name__, {"MLVAEConfig": "pyro_vaes.models.mlvae.config",
                                               "MLVAE": "pyro_vaes.models.mlvae.model"},
                                    first={"MLVAE": "pyro_vaes.models.mlvae.interventions"})

__all__ = ["MLVAE", "MLVAEConfig"]
