"""Run directories: where a training run keeps what it wrote.

Layout::

    RUN/config.json      model, model options, training options, data description
    RUN/checkpoint.pt    atomic, every epoch (see pyro_vaes.training.checkpoint)
    RUN/metrics.jsonl    one JSON object per epoch
    RUN/figures/         reconstructions.png, samples.png, loss_curves.png, ...
    RUN/tensorboard/     event files (with --tensorboard)

A new run never writes into a directory that already holds files; a resumed
run must find its checkpoint there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyro_vaes.errors import CheckpointError


@dataclass(frozen=True)
class RunDirectory:
    """The paths of one run."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / "config.json"

    @property
    def checkpoint(self) -> Path:
        return self.root / "checkpoint.pt"

    @property
    def metrics(self) -> Path:
        return self.root / "metrics.jsonl"

    @property
    def figures(self) -> Path:
        return self.root / "figures"

    @property
    def tensorboard(self) -> Path:
        return self.root / "tensorboard"

    @staticmethod
    def check_new(path: str | Path) -> None:
        """Refuse a path that already holds files (nothing is ever overwritten)."""
        root = Path(path)
        if root.exists() and (not root.is_dir() or any(root.iterdir())):
            raise CheckpointError(f"{root} already exists and is not empty; pass --resume to "
                                  f"continue that run or choose another --out")

    @classmethod
    def create(cls, path: str | Path) -> RunDirectory:
        """A fresh run directory; refuses one that already holds files."""
        cls.check_new(path)
        root = Path(path)
        root.mkdir(parents=True, exist_ok=True)
        (root / "figures").mkdir(exist_ok=True)
        return cls(root)

    @classmethod
    def open(cls, path: str | Path) -> RunDirectory:
        """An existing run directory; refuses a path without a checkpoint."""
        root = Path(path)
        if not root.is_dir():
            raise CheckpointError(f"{root}: no such run directory; give the --out directory "
                                  f"of a `pyro-vaes train` run")
        run = cls(root)
        if not run.checkpoint.is_file():
            raise CheckpointError(f"{root}: no checkpoint.pt in it; give the --out directory "
                                  f"of a `pyro-vaes train` run")
        run.figures.mkdir(exist_ok=True)
        return run

    def write_config(self, config: dict[str, Any]) -> None:
        """Write config.json (human-readable copy of the checkpoint's config)."""
        self.config.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")

    def append_metrics(self, record: dict[str, Any]) -> None:
        """Append one JSON line to metrics.jsonl."""
        with self.metrics.open("a") as handle:
            handle.write(json.dumps(record) + "\n")

    def truncate_metrics(self, epochs: int) -> None:
        """Keep the first ``epochs`` lines (a resume drops lines written after its checkpoint)."""
        if not self.metrics.exists():
            return
        lines = [line for line in self.metrics.read_text().splitlines() if line.strip()]
        self.metrics.write_text("".join(line + "\n" for line in lines[:epochs]))
