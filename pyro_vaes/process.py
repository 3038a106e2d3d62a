"""Process-wide settings: torch's thread count for a run, and settings changed only for the
length of a ``with`` block.

Torch's intra-op thread count and Pyro's validation flag belong to the whole
process; a library call that needs another value sets it here and the previous
value comes back when the block ends, also on an exception.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import pyro
import torch

from pyro_vaes.errors import ConfigError

AUTO_MAX_THREADS = 4
"""Most threads ``auto`` takes on an idle machine: a step is a few hundred short tensor
operations, so more threads stop paying (docs/benchmarks.md, "Threads")."""


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def auto_threads(cores: int | None = None, load: float | None = None,
                 environ: dict[str, str] | None = None) -> int:
    """The thread count of ``--threads auto``.

    OMP_NUM_THREADS when the environment sets it to a positive number; otherwise one
    thread unless at least 3 of the ``cores`` (default: those this process may run on)
    are idle by the 1-minute ``load`` average, then one fewer than the idle cores, at
    most :data:`AUTO_MAX_THREADS`. A second thread that must wait for a busy core stalls
    every parallel region (measured: up to 50x slower steps, docs/benchmarks.md,
    "Threads"), while it gains at best 1.2-1.6x on an idle one; so on a 2-core machine
    ``auto`` is always one thread.
    """
    environ = os.environ if environ is None else environ
    given = environ.get("OMP_NUM_THREADS", "").strip()
    if given.isdigit() and int(given) > 0:
        return int(given)
    cores = _usable_cores() if cores is None else cores
    load = os.getloadavg()[0] if load is None else load
    idle = cores - load
    if idle < 3:
        return 1
    return max(1, min(AUTO_MAX_THREADS, int(idle) - 1))


def resolve_threads(value: int | str) -> int:
    """The number of threads ``--threads VALUE`` asks for (``auto``: :func:`auto_threads`);
    a ConfigError for anything but a positive whole number or auto."""
    if value == "auto":
        return auto_threads()
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1024:
        raise ConfigError(f"--threads {value!r} is not valid; give a whole number from 1 to "
                          f"1024, or auto")
    return value


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Run the block with ``torch.set_num_threads(count)``; restore the previous count."""
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextmanager
def pyro_validation(enabled: bool) -> Iterator[None]:
    """Run the block with Pyro's argument and support checks on or off; restore the flag."""
    with pyro.validation_enabled(enabled):
        yield
