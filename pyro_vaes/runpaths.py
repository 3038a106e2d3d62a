"""Checks of a run directory's path that need no torch: the first answer of every command
that reads a run (``evaluate``, ``sample``, ``intervene``, ``analyze``).

``pyro_vaes.runs.RunDirectory.open`` refuses with the same messages; the command line
calls these before it loads torch, so that a wrong path is answered at once.
"""

from __future__ import annotations

from pathlib import Path

from pyro_vaes.errors import CheckpointError

LAST_CHECKPOINT = "checkpoint.pt"
BEST_CHECKPOINT = "best.pt"


def check_run_directory(path: str | Path) -> Path:
    """``path`` as a Path when it is a run directory holding RUN/checkpoint.pt; a one-line
    CheckpointError otherwise. Reads nothing but the directory entries."""
    root = Path(path)
    if not root.is_dir():
        raise CheckpointError(f"{root}: no such run directory; give the --out directory "
                              f"of a `pyro-vaes train` run")
    checkpoint = root / LAST_CHECKPOINT
    if checkpoint.exists() and not checkpoint.is_file():
        kind = "a directory" if checkpoint.is_dir() else "not a regular file"
        raise CheckpointError(f"{checkpoint} is {kind}, not a checkpoint file; restore the "
                              f"file a `pyro-vaes train` run wrote there")
    if not checkpoint.is_file():
        raise CheckpointError(missing_checkpoint(root))
    return root


def missing_checkpoint(root: Path) -> str:
    """Why ``root`` cannot be read as a run without RUN/checkpoint.pt, and what can be done:
    a run that still holds best.pt and config.json can go on from its best epoch."""
    best, config = root / BEST_CHECKPOINT, root / "config.json"
    if not (best.is_file() and config.is_file()):
        return (f"{root}: no {LAST_CHECKPOINT} in it; give the --out directory of a "
                f"`pyro-vaes train` run")
    model = _model_of(config)
    again = (f"`pyro-vaes train {model} --config {root / 'experiment.toml'} --out NEW_DIR`"
             if (root / "experiment.toml").is_file() else "`pyro-vaes train` into a new --out")
    return (f"{root} lost its {LAST_CHECKPOINT} (the last state) but keeps {BEST_CHECKPOINT} "
            f"(the best epoch) and config.json: copy {best} to {root / LAST_CHECKPOINT} to use "
            f"or resume it from that epoch (`pyro-vaes train {model} --out {root} --resume`, "
            f"with --epochs to go further), or train it again with {again}")


def _model_of(config: Path) -> str:
    """The model config.json names, or MODEL when it cannot be read."""
    import json

    try:
        model = json.loads(config.read_text()).get("model")
    except (OSError, ValueError, AttributeError):
        model = None
    return model if isinstance(model, str) and model.isidentifier() else "MODEL"
