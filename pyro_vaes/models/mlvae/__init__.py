"""ML-VAE: group content shared by the members of a group, style per member.

Loading the model class registers its interventions (swap, generate, interpolate).
"""

from __future__ import annotations

import importlib
from typing import Any


def __getattr__(name: str) -> Any:
    # Loaded on first use, so that importing the config alone stays free of torch.
    if name == "MLVAEConfig":
        return importlib.import_module("pyro_vaes.models.mlvae.config").MLVAEConfig
    if name == "MLVAE":
        # importing the model registers its interventions
        importlib.import_module("pyro_vaes.models.mlvae.interventions")
        return importlib.import_module("pyro_vaes.models.mlvae.model").MLVAE
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["MLVAE", "MLVAEConfig"]
