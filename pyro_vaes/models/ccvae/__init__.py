"""CCVAE: characteristic capturing VAE (Joy et al., ICLR 2021)."""

from __future__ import annotations

import importlib
from typing import Any


def __getattr__(name: str) -> Any:
    # Loaded on first use, so that importing the config alone stays free of torch.
    if name == "CCVAEConfig":
        return importlib.import_module("pyro_vaes.models.ccvae.config").CCVAEConfig
    if name == "CCVAE":
        # importing the model registers its interventions
        importlib.import_module("pyro_vaes.models.ccvae.interventions")
        return importlib.import_module("pyro_vaes.models.ccvae.model").CCVAE
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["CCVAE", "CCVAEConfig"]
