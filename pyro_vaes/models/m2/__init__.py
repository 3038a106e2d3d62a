"""M2: the semi-supervised VAE of Kingma et al. (2014)."""

from __future__ import annotations

import importlib
from typing import Any


def __getattr__(name: str) -> Any:
    # Loaded on first use, so that importing the config alone stays free of torch.
    if name == "M2Config":
        return importlib.import_module("pyro_vaes.models.m2.config").M2Config
    if name == "M2":
        # importing the model registers its interventions
        importlib.import_module("pyro_vaes.models.m2.interventions")
        return importlib.import_module("pyro_vaes.models.m2.model").M2
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["M2", "M2Config"]
