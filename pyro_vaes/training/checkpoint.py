"""Atomic checkpoints loadable with ``torch.load(weights_only=True)``.

A checkpoint is a dict of plain containers and tensors::

    {"format": "pyro_vaes/1", "config": {...JSON-able...}, "state_dict": {...},
     "optimizer": {...}, "scheduler": {...}, "epoch": int, "history": [...],
     "position": {"batch": int, "global_step": int, ...},   # where in the epoch
     "rng": {"torch": ByteTensor, "data": ByteTensor, "ranks": [...]}}

It is written to a temporary file beside the target (``.checkpoint-*.tmp``),
flushed to disk and moved into place with ``os.replace``, so a crash never
leaves a half-written checkpoint; a temporary file left by a killed process is
removed by the next run that locks the directory (:func:`remove_stale_temporaries`).

Only ``torch.load(..., weights_only=True)`` ever reads a checkpoint: a file that
is not one of ours (random bytes, another program's pickle, a checkpoint missing
its parts) is refused with one line, and the refusal never suggests loading it
unsafely.
"""

from __future__ import annotations

import io
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import torch

from pyro_vaes.errors import CheckpointError
from pyro_vaes.training import faults

FORMAT = "pyro_vaes/1"
TEMPORARY_PATTERN = ".checkpoint-*.tmp"
_writes = 0


def save_checkpoint(path: str | Path, checkpoint: dict[str, Any]) -> None:
    """Write ``checkpoint`` to ``path`` atomically (and durably: fsync before the rename)."""
    global _writes
    path = Path(path)
    buffer = io.BytesIO()
    torch.save({"format": FORMAT, **checkpoint}, buffer)
    data = buffer.getbuffer()
    _writes += 1
    fd, tmp = tempfile.mkstemp(prefix=".checkpoint-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            half = len(data) // 2
            handle.write(data[:half])
            handle.flush()
            faults.reached("checkpoint-write", _writes)
            handle.write(data[half:])
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def remove_stale_temporaries(directory: str | Path) -> list[Path]:
    """Delete the temporary files a killed writer left in ``directory``; return them.

    Call only while holding the run directory's lock (no other writer is running).
    """
    removed = []
    for stale in Path(directory).glob(TEMPORARY_PATTERN):
        stale.unlink(missing_ok=True)
        removed.append(stale)
    return removed


_REQUIRED = {"config": dict, "state_dict": dict, "optimizer": dict, "scheduler": dict,
             "epoch": int, "history": list, "rng": dict}


def _not_ours(path: Path, why: str) -> CheckpointError:
    return CheckpointError(f"{path}: {why}; give the run directory of a `pyro-vaes train` run "
                           f"(or train again to write a new checkpoint)")


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint, refusing files that are missing, corrupt or not ours."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no checkpoint there; give a run directory written by "
                              f"`pyro-vaes train`")
    try:
        with warnings.catch_warnings():  # e.g. "Detected pickle protocol 4": refused below
            warnings.simplefilter("ignore")
            checkpoint = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # noqa: BLE001 - every way a foreign file fails to load
        # torch's own message may advise loading with weights_only=False; never repeat it.
        kind = ("it holds Python objects other than tensors and plain containers"
                if "Unsupported global" in str(error)
                else "it is corrupt, truncated or not a torch file")
        raise _not_ours(path, f"not a readable checkpoint ({kind})") from None
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != FORMAT:
        raise _not_ours(path, f"not a pyro_vaes checkpoint (no '{FORMAT}' format tag)")
    for key, kind in _REQUIRED.items():
        if not isinstance(checkpoint.get(key), kind):
            raise _not_ours(path, f"an incomplete pyro_vaes checkpoint ('{key}' is missing or "
                                  f"not a {kind.__name__})")
    config = checkpoint["config"]
    for key in ("model", "model_config", "train", "data_info"):
        if key not in config:
            raise _not_ours(path, f"an incomplete pyro_vaes checkpoint (config has no '{key}')")
    if not isinstance(config["model"], str):
        raise _not_ours(path, "an incomplete pyro_vaes checkpoint (config names no model)")
    if not all(torch.is_tensor(v) for v in checkpoint["state_dict"].values()):
        raise _not_ours(path, "an incomplete pyro_vaes checkpoint (weights are not tensors)")
    return checkpoint
