"""Package names that load on first use (PEP 562), so that importing a package stays light."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, where: Mapping[str, str], *,
                 first: Mapping[str, str] | None = None
                 ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A package's ``__getattr__`` and ``__dir__``: ``where`` maps each exported name to the
    module that defines it; ``first`` maps a name to a module imported before it for its side
    effects (a model's interventions register themselves when imported)."""
    before = dict(first or {})

    def __getattr__(name: str) -> Any:
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        if name in before:
            importlib.import_module(before[name])
        return getattr(importlib.import_module(where[name]), name)

    def __dir__() -> list[str]:
        return sorted([*vars(sys.modules[package]), *where])

    return __getattr__, __dir__
