"""Class-related / class-independent VAE ("parted"): class c, class-related u, class-free z.

Loading the model class registers its interventions (traverse, generate, swap).
"""

from __future__ import annotations

import importlib
from typing import Any


def __getattr__(name: str) -> Any:
    # Loaded on first use, so that importing the config alone stays free of torch.
    if name == "PartedConfig":
        return importlib.import_module("pyro_vaes.models.parted.config").PartedConfig
    if name == "PartedVAE":
        # importing the model registers its interventions
        importlib.import_module("pyro_vaes.models.parted.interventions")
        return importlib.import_module("pyro_vaes.models.parted.model").PartedVAE
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["PartedVAE", "PartedConfig"]
