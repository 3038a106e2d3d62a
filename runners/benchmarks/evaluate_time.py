"""How long `pyro-vaes evaluate RUN` takes, as a whole process, cold and warm.

Run ``python3 -m runners.benchmarks.evaluate_time RUN`` on a trained run. Each
repeat runs the command twice in a fresh interpreter: **cold**, with an empty
judge cache (the image classifier that judges interventions is trained first),
then **warm**, with the cache the cold run filled (the judge is read from disk,
as on every evaluation after the first on that data set). Prints, per phase, the
wall time and the CPU time (user + system) of each run and their medians, the
1-minute load average before each run, and the command. ``--threads`` sets
``OMP_NUM_THREADS`` for the evaluated process.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one child process; raises if it fails."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="a trained run directory")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="OMP_NUM_THREADS of the child")
    parser.add_argument("--extra", default="", help="more `evaluate` options, one string")
    args = parser.parse_args()
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "PYTHONPATH": str(root)}
    cache = Path(tempfile.mkdtemp(prefix="judge-cache-"))
    command = [sys.executable, "-m", "runners.cli", "evaluate", str(args.run),
               "--judge-cache", str(cache), "--no-progress", *args.extra.split()]
    times: dict[str, list[tuple[float, float, float]]] = {"cold": [], "warm": []}
    for _ in range(args.repeats):
        for phase in ("cold", "warm"):
            if phase == "cold":
                shutil.rmtree(cache, ignore_errors=True)
            load = os.getloadavg()[0]
            wall, cpu = timed(command, env)
            times[phase].append((wall, cpu, load))
            print(f"{phase}: wall {wall:.1f} s, cpu {cpu:.1f} s, load {load:.2f}", flush=True)
    shutil.rmtree(cache, ignore_errors=True)
    print(f"\ncommand: OMP_NUM_THREADS={args.threads} pyro-vaes evaluate {args.run} "
          f"--judge-cache DIR --no-progress {args.extra}".rstrip())
    for phase, rows in times.items():
        print(f"{phase}: median wall {statistics.median(r[0] for r in rows):.1f} s, "
              f"median cpu {statistics.median(r[1] for r in rows):.1f} s over {len(rows)} "
              f"runs (load {min(r[2] for r in rows):.2f}-{max(r[2] for r in rows):.2f})")


if __name__ == "__main__":
    main()
