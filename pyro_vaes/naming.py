"""File names made from user-facing names (class and attribute names, labels)."""

from __future__ import annotations

import re


def file_label(name: str, fallback: str = "label") -> str:
    """``name`` made safe for a file name: runs of characters other than letters, digits,
    ``_`` and ``-`` become one ``_`` ("T-shirt/top" -> "T-shirt_top"); ``fallback`` when
    nothing is left."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_") or fallback
