"""VAE and beta-VAE."""

from __future__ import annotations

import importlib
from typing import Any


def __getattr__(name: str) -> Any:
    # Loaded on first use, so that importing the config alone stays free of torch.
    if name == "VAEConfig":
        return importlib.import_module("pyro_vaes.models.vae.config").VAEConfig
    if name == "VAE":
        return importlib.import_module("pyro_vaes.models.vae.model").VAE
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["VAE", "VAEConfig"]
