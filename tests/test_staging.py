"""Grids are drawn into a staging directory and moved in; a process killed while drawing
leaves its staging directory behind, and the next write into the same place removes it
(but never the staging directory of a process that still runs)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from pyro_vaes.outputs import write_staged

ROOT = Path(__file__).resolve().parents[1]

DRAW_SLOWLY = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from pyro_vaes.outputs import write_staged

    def produce(staging: Path):
        (staging / "grid.png").write_bytes(b"half")
        time.sleep(120)
        return [staging / "grid.png"]

    write_staged(Path(sys.argv[1]), produce)
""")


def _start_drawing(out: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, "-c", DRAW_SLOWLY, str(out)], env=env)
    deadline = time.monotonic() + 60
    while not list(out.glob(".staging-*/grid.png")):
        assert child.poll() is None and time.monotonic() < deadline, "the child never drew"
        time.sleep(0.05)
    return child


def _produce_one(staging: Path) -> list[Path]:
    (staging / "swap.png").write_bytes(b"png")
    return [staging / "swap.png"]


def test_the_staging_of_a_killed_process_goes_at_the_next_write(tmp_path):
    child = _start_drawing(tmp_path)
    child.send_signal(signal.SIGKILL)
    child.wait()
    (left,) = tmp_path.glob(".staging-*")                  # the kill left it behind
    assert str(child.pid) in left.name

    written = write_staged(tmp_path, _produce_one)
    assert written == [tmp_path / "swap.png"] and (tmp_path / "swap.png").read_bytes() == b"png"
    assert not left.exists() and not list(tmp_path.glob(".staging-*"))
    assert not (tmp_path / "grid.png").exists()            # nothing half-drawn moved in


def test_the_staging_of_a_running_process_is_left_alone(tmp_path):
    child = _start_drawing(tmp_path)
    try:
        (theirs,) = tmp_path.glob(".staging-*")
        write_staged(tmp_path, _produce_one)
        assert theirs.is_dir() and (theirs / "grid.png").read_bytes() == b"half"
    finally:
        child.kill()
        child.wait()
