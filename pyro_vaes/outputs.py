"""Checks of the paths a command is about to write, made before any work starts.

Every writer of the library and the command line asks here first, so that an
unwritable place, a missing parent directory, a wrong file type or an existing
file is refused with one line before anything is computed or written. An
existing file is only replaced when the caller says ``force``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from pyro_vaes.errors import ConfigError

IMAGE_SUFFIXES = (".png", ".pdf", ".svg")


def _nearest_existing(path: Path) -> Path:
    path = Path(os.path.abspath(path))
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _probe(directory: Path, option: str, target: Path) -> None:
    """Refuse ``directory`` unless a file can really be created in it (root ignores mode bits,
    and some file systems refuse writes whatever the bits say)."""
    if not os.access(directory, os.W_OK | os.X_OK):
        raise ConfigError(f"{option} {target}: {directory} is not writable; choose a "
                          f"directory you can write to")
    try:
        probe = tempfile.mkdtemp(prefix=".pyro-vaes-probe-", dir=directory)
    except OSError as error:
        raise ConfigError(f"{option} {target}: cannot write in {directory} "
                          f"({error.strerror or error}); choose a directory you can write to"
                          ) from None
    shutil.rmtree(probe, ignore_errors=True)


def check_writable_directory(path: str | Path, option: str = "--out") -> None:
    """Refuse a directory path that is a file or that cannot be created and written."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{option} {path} is a file, not a directory; choose a directory "
                          f"path")
    existing = _nearest_existing(path)
    if not existing.is_dir():
        raise ConfigError(f"{option} {path}: {existing} is a file, so no directory can be made "
                          f"under it; choose another path")
    _probe(existing, option, path)


def check_new_file(path: str | Path, *, force: bool = False, option: str = "--out",
                   suffixes: Iterable[str] = IMAGE_SUFFIXES, make_parent: bool = False) -> None:
    """Refuse a file path that cannot be written, has the wrong suffix, or exists (unless
    ``force``). ``make_parent``: the parent directory may be created (default outputs
    inside a run directory); otherwise it must exist."""
    path = Path(path)
    suffixes = tuple(suffixes)
    if suffixes and path.suffix.lower() not in suffixes:
        raise ConfigError(f"{option} {path}: the file name must end in "
                          f"{', '.join(suffixes[:-1])} or {suffixes[-1]}" if len(suffixes) > 1
                          else f"{option} {path}: the file name must end in {suffixes[0]}")
    if path.is_dir():
        raise ConfigError(f"{option} {path} is a directory; give a file name such as "
                          f"{path / ('out' + (suffixes[0] if suffixes else ''))}")
    if path.exists() and not force:
        raise ConfigError(f"{option} {path} already exists; pass --force to overwrite it or "
                          f"choose another file name")
    parent = path.parent
    if make_parent:
        check_writable_directory(parent, option)
        return
    if not parent.is_dir():
        raise ConfigError(f"{option} {path}: directory {parent} does not exist; create it or "
                          f"choose another path")
    _probe(parent, option, path)


def check_new_files(paths: Iterable[str | Path], *, force: bool = False,
                    option: str = "--out") -> None:
    """Refuse to replace any of ``paths`` that exists, unless ``force`` (one line naming the
    first few)."""
    existing = [Path(p) for p in paths if Path(p).exists()]
    if existing and not force:
        shown = ", ".join(str(p) for p in existing[:3])
        more = f" and {len(existing) - 3} more" if len(existing) > 3 else ""
        raise ConfigError(f"{shown}{more} already exist{'s' if len(existing) == 1 else ''}; "
                          f"pass --force to overwrite, or choose another {option}")


STAGING_PREFIX = ".staging-"


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_staging(out: Path) -> list[Path]:
    """Remove the staging directories in ``out`` left by a process that no longer runs
    (killed while drawing); those of live processes are kept. Returns what was removed."""
    removed = []
    for staging in out.glob(f"{STAGING_PREFIX}*"):
        owner = staging.name[len(STAGING_PREFIX):].split("-", 1)[0]
        if not staging.is_dir() or (owner.isdigit() and _process_alive(int(owner))):
            continue
        shutil.rmtree(staging, ignore_errors=True)
        removed.append(staging)
    return removed


def write_text_atomically(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same directory, so that a
    kill leaves either the old file or the new one, never half of one."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp",
                                         dir=path.parent)
    try:
        with os.fdopen(handle, "w") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_staged(out: str | Path, produce: Callable[[Path], list[Path]], *,
                 force: bool = False, option: str = "--out") -> list[Path]:
    """Run ``produce(staging_dir)`` (it writes files whose names are known only once it
    has run), then move its files into ``out``; if any would replace an existing file and
    ``force`` is not given, refuse and leave ``out`` as it was. Returns the final paths of
    the paths ``produce`` returned."""
    out = Path(out)
    check_writable_directory(out, option)
    created = [d for d in (out, *out.parents) if not d.exists()]  # deepest first
    out.mkdir(parents=True, exist_ok=True)
    remove_stale_staging(out)
    staging = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-", dir=out))
    try:
        written = produce(staging)
        files = sorted(p for p in staging.rglob("*") if p.is_file())
        targets = {p: out / p.relative_to(staging) for p in files}
        check_new_files(targets.values(), force=force, option=option)
        for source, target in targets.items():
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        for directory in created:
            if directory.is_dir() and not any(directory.iterdir()):
                directory.rmdir()
        raise
    shutil.rmtree(staging, ignore_errors=True)
    return [out / Path(p).relative_to(staging) for p in written]
