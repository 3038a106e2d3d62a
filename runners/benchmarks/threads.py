"""Threads: whole-command seconds of training, as the machine is found and with two
busy-loop processes added, for `--threads auto` (the default) and torch's own default.

    python -m runners.benchmarks.threads [--max-train 3000] [--only main|epochs]
        [--settings auto,T] [--conditions found,busy] [--timeout S] [--out DIR]

Jobs: the README's main job (`pyro-vaes train vae`, digits, its default epochs) and one
Fashion-MNIST epoch per model (default nets, `--max-train N`, 600 labels for the
semi-supervised models). Each job runs under `--threads auto` and under `--threads T`
(T = torch's default count here, what a run used before `--threads`), first as the
machine is found ("as found"), then with two `while True: pass` processes started by this
program ("+2 busy loops"); `--settings` and `--conditions` pick a part. A run still going
after `--timeout` seconds is stopped and shown as "> S". OMP_NUM_THREADS is removed from
the children's environment so that `auto` decides. Printed: a markdown table of wall
seconds, the CPU seconds of the command and the 1-minute load average before each run.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SEMI = ("m2", "ccvae", "parted")


def _jobs(max_train: int, only: str | None) -> list[tuple[str, list[str]]]:
    jobs = [("train vae (main job, digits)", ["train", "vae"])]
    for model in ("vae", "m2", "ccvae", "mlvae", "parted"):
        args = ["train", model, "--data", "fashion-mnist", "--max-train", str(max_train),
                "--epochs", "1"]
        if model in SEMI:
            args += ["--labels", "600"]
        jobs.append((f"{model}: 1 Fashion-MNIST epoch ({max_train} images)", args))
    if only == "main":
        return jobs[:1]
    if only == "epochs":
        return jobs[1:]
    return jobs


def _run(args: list[str], out: Path, timeout: float | None) -> tuple[float | None, float]:
    """Wall seconds (None when stopped at ``timeout``) and CPU seconds of one command."""
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    env["PYTHONPATH"] = str(ROOT)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "runners.cli", *args, "--out", str(out),
                              "--no-progress"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
    try:
        _, err = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        wall = None
    else:
        wall = time.perf_counter() - start
        if child.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed:\n{err[-2000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-train", type=int, default=3000)
    parser.add_argument("--only", choices=("main", "epochs"), default=None)
    parser.add_argument("--settings", default=None,
                        help="comma-separated --threads values (default: auto and torch's)")
    parser.add_argument("--conditions", default="found,busy")
    parser.add_argument("--timeout", type=float, default=None)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    import torch

    torch_default = torch.get_num_threads()
    values = args.settings.split(",") if args.settings else ["auto", str(torch_default)]
    settings = [(v + (" (torch's default)" if v == str(torch_default) else ""), v)
                for v in values]
    conditions = [{"found": "as found", "busy": "+2 busy loops"}[c]
                  for c in args.conditions.split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        root = args.out or Path(scratch)
        for condition in conditions:
            loops = []
            if condition != "as found":
                loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
                         for _ in range(2)]
                time.sleep(5)
            try:
                for name, job in _jobs(args.max_train, args.only):
                    for label, value in settings:
                        load = os.getloadavg()[0]
                        out = root / f"run-{len(rows)}"
                        wall, cpu = _run([*job, "--threads", value], out, args.timeout)
                        shown = f"> {args.timeout:.0f}" if wall is None else f"{wall:.1f}"
                        rows.append((name, condition, label, shown, cpu, load))
                        print(f"| {name} | {condition} | {label} | {shown} | {cpu:.1f} | "
                              f"{load:.1f} |", flush=True)
            finally:
                for loop in loops:
                    loop.kill()
                    loop.wait()
    print("\n| job | machine | --threads | wall s | CPU s | load before |")
    print("|---|---|---|---:|---:|---:|")
    for name, condition, label, wall, cpu, load in rows:
        print(f"| {name} | {condition} | {label} | {wall} | {cpu:.1f} | {load:.1f} |")


if __name__ == "__main__":
    main()
