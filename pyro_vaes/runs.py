"""Run directories: where a training run keeps what it wrote.

Layout::

    RUN/config.json      model, model options, training options, data description,
                         and the options a resume changed ("changes")
    RUN/experiment.toml  the same options as an experiment file: `pyro-vaes train MODEL
                         --config RUN/experiment.toml` trains the same run again
    RUN/checkpoint.pt    atomic; before the first step, every --checkpoint-every steps and
                         after every epoch (see pyro_vaes.training.checkpoint)
    RUN/metrics.jsonl    one JSON object per epoch
    RUN/figures/         reconstructions.png, samples.png, loss_curves.png, ...
    RUN/tensorboard/     event files (with --tensorboard)
    RUN/.lock            held (flock) by the process training into RUN

A run directory is resumable from the moment it exists: the first checkpoint is
written before the first step. A directory that holds no checkpoint and nothing
but what a run writes before its first checkpoint (an *unstarted* run, e.g. one
killed at once) may be started again, with or without ``--resume``. Any other
directory that already holds files is never written into by a new run.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyro_vaes.errors import CheckpointError
from pyro_vaes.experiment import experiment_toml
from pyro_vaes.outputs import check_writable_directory
from pyro_vaes.runpaths import check_run_directory
from pyro_vaes.training.checkpoint import TEMPORARY_PATTERN, remove_stale_temporaries

_PARTIAL = (".config.json-*.part", ".experiment.toml-*.part", ".metrics.jsonl-*.part")
"""Temporary files of :func:`write_atomically` in a run directory (removed under the lock)."""


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` by ``text`` through a temporary file, so a kill never leaves it half
    written."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", suffix=".part", dir=path.parent)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)  # as open() would have made it, not mkstemp's 0600
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class RunLock:
    """An exclusive ``flock`` on ``RUN/.lock``, held while a process trains into ``RUN``.

    The lock belongs to the open file, so the kernel releases it when the process ends,
    however it ends; the file itself stays (an unlocked ``.lock`` means nothing).
    """

    def __init__(self, root: Path) -> None:
        self.path = root / ".lock"
        self.fd: int | None = None

    @staticmethod
    def _busy(path: Path) -> CheckpointError:
        try:
            holder = path.read_text().strip()
        except OSError:
            holder = ""
        who = f"process {holder}" if holder.isdigit() else "another process"
        return CheckpointError(f"{path.parent} is being trained by {who}; wait for it to "
                               f"finish (or stop it), or choose another --out")

    @classmethod
    def check_free(cls, root: Path) -> None:
        """Refuse a directory another process is training into (creates nothing)."""
        path = root / ".lock"
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            if error.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise cls._busy(path) from None
            raise
        finally:
            os.close(fd)  # closing releases the probe's lock

    def acquire(self) -> None:
        """Take the lock or refuse with one line; record this process's id in the file."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            os.close(fd)
            if error.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise self._busy(self.path) from None
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self.fd = fd

    def release(self) -> None:
        """Give the lock back."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


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
    def experiment(self) -> Path:
        return self.root / "experiment.toml"

    @property
    def metrics(self) -> Path:
        return self.root / "metrics.jsonl"

    @property
    def figures(self) -> Path:
        return self.root / "figures"

    @property
    def tensorboard(self) -> Path:
        return self.root / "tensorboard"

    def has_tensorboard(self) -> bool:
        """True when the run has written TensorBoard event files (it was trained with
        ``--tensorboard``)."""
        return self.tensorboard.is_dir() and any(self.tensorboard.rglob("events.out.tfevents*"))

    def is_unstarted(self) -> bool:
        """True for a directory a run was created in but that holds no checkpoint and nothing
        else a run writes after its first step (only config.json, an empty figures/,
        tensorboard/, an empty metrics.jsonl, the lock and temporary files)."""
        if not self.root.is_dir() or self.checkpoint.exists():
            return False
        for entry in self.root.iterdir():
            if entry.name in (".lock", "config.json", "experiment.toml", "tensorboard"):
                continue
            if any(entry.match(pattern) for pattern in (TEMPORARY_PATTERN, *_PARTIAL)):
                continue
            if entry == self.figures and entry.is_dir() and not any(entry.iterdir()):
                continue
            if entry == self.metrics and entry.is_file() and entry.stat().st_size == 0:
                continue
            return False
        return True

    @staticmethod
    def check_new(path: str | Path) -> None:
        """Refuse a path that cannot hold a new run: not writable, a file, or a directory that
        already holds files other than an unstarted run's (nothing is ever overwritten)."""
        root = Path(path)
        check_writable_directory(root)
        if not root.exists() or not any(root.iterdir()):
            return
        run = RunDirectory(root)
        RunLock.check_free(root)
        if run.is_unstarted():
            return
        if run.checkpoint.exists():
            raise CheckpointError(f"{root} already exists and holds a run; pass --resume to "
                                  f"continue it, or choose another --out")
        raise CheckpointError(f"{root} already exists and is not empty; choose another --out")

    @classmethod
    def create(cls, path: str | Path) -> RunDirectory:
        """A fresh run directory (or an unstarted one again); refuses any other that holds
        files."""
        cls.check_new(path)
        root = Path(path)
        root.mkdir(parents=True, exist_ok=True)
        (root / "figures").mkdir(exist_ok=True)
        return cls(root)

    @classmethod
    def open(cls, path: str | Path) -> RunDirectory:
        """An existing run directory; refuses a path without a checkpoint. Writes nothing."""
        return cls(check_run_directory(path))

    def lock(self) -> RunLock:
        """Take the directory's lock, then remove temporary files a killed writer left."""
        lock = RunLock(self.root)
        lock.acquire()
        remove_stale_temporaries(self.root)
        for pattern in _PARTIAL:
            for stale in self.root.glob(pattern):
                stale.unlink(missing_ok=True)
        return lock

    def read_config(self) -> dict[str, Any] | None:
        """config.json as a dict (None when there is none); refuses a file that is not JSON."""
        if not self.config.exists():
            return None
        try:
            values = json.loads(self.config.read_text())
        except (OSError, ValueError) as error:
            raise CheckpointError(f"{self.config}: not readable JSON ({error}); restore it or "
                                  f"delete it (it is rewritten from the checkpoint on resume)"
                                  ) from None
        if not isinstance(values, dict):
            raise CheckpointError(f"{self.config}: not a run configuration; restore it or "
                                  f"delete it (it is rewritten from the checkpoint on resume)")
        return values

    def write_config(self, config: dict[str, Any]) -> None:
        """Write config.json (human-readable copy of the checkpoint's config) and the same
        options as an experiment file, RUN/experiment.toml."""
        write_atomically(self.config, json.dumps(config, indent=2, sort_keys=True) + "\n")
        write_atomically(self.experiment, experiment_toml(
            config["model"], config["train"], config["model_config"]))

    def append_metrics(self, record: dict[str, Any]) -> None:
        """Append one JSON line to metrics.jsonl."""
        with self.metrics.open("a") as handle:
            handle.write(json.dumps(record) + "\n")

    def truncate_metrics(self, epochs: int) -> int:
        """Keep the first ``epochs`` records (a resume drops lines written after its
        checkpoint) and drop every line that is not a JSON object (one cut off by a kill or a
        full disk), so that the file stays JSON lines; returns how many such lines were
        dropped."""
        if not self.metrics.exists():
            return 0
        text = self.metrics.read_text(errors="replace")
        records, broken = [], 0
        for line in text.splitlines():
            if not line.strip():
                continue
            try:
                valid = isinstance(json.loads(line), dict)
            except ValueError:
                valid = False
            if valid:
                records.append(line)
            else:
                broken += 1
        kept = "".join(line + "\n" for line in records[:epochs])
        if kept != text:
            write_atomically(self.metrics, kept)
        return broken
