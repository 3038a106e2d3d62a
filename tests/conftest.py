"""Shared test helpers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pyro
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _fresh_rng():
    # One torch thread per test: the suite runs in two worker processes (pytest-xdist, see
    # setup.cfg), and a second thread per worker that waits for a busy core stalls every
    # parallel region (docs/benchmarks.md, "Threads"). The tests that need more threads set
    # them themselves (test_process_settings).
    pyro.set_rng_seed(0)
    torch.set_num_threads(1)
    yield


def run_cli(*args: str, cwd: Path | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run `pyro-vaes ARGS` in a fresh interpreter, as a user would."""
    return subprocess.run([sys.executable, "-m", "runners.cli", *args], cwd=cwd or ROOT,
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def default_sigint() -> None:
    """``preexec_fn`` of a child that must see Ctrl-C as in a terminal, even when the suite was
    started in the background by a shell, which leaves SIGINT ignored in all it starts."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)
