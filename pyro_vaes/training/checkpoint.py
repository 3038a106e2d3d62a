"""Atomic checkpoints loadable with ``torch.load(weights_only=True)``.

A checkpoint is a dict of plain containers and tensors::

    {"format": "pyro_vaes/1", "config": {...JSON-able...}, "state_dict": {...},
     "optimizer": {...}, "scheduler": {...}, "epoch": int, "history": [...],
     "rng": {"torch": ByteTensor, "data": ByteTensor}}

It is written to a temporary file beside the target and moved into place with
``os.replace``, so a crash never leaves a half-written checkpoint.
"""

from __future__ import annotations

import os
import pickle
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import torch

from pyro_vaes.errors import CheckpointError

FORMAT = "pyro_vaes/1"


def save_checkpoint(path: str | Path, checkpoint: dict[str, Any]) -> None:
    """Write ``checkpoint`` to ``path`` atomically."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=".checkpoint-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            torch.save({"format": FORMAT, **checkpoint}, handle)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint, refusing files that are missing, corrupt or not ours."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no checkpoint there; give a run directory written by "
                              f"`pyro-vaes train`")
    try:
        checkpoint = torch.load(path, map_location=map_location, weights_only=True)
    except (RuntimeError, pickle.UnpicklingError, zipfile.BadZipFile, EOFError, OSError,
            ValueError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise CheckpointError(f"{path}: not a readable checkpoint ({first}); "
                              f"re-run `pyro-vaes train` to write a new one") from None
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a pyro_vaes checkpoint (no '{FORMAT}' format tag); "
                              f"give a run directory written by `pyro-vaes train`")
    return checkpoint
