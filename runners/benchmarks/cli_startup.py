"""Start-up of the command line: whole-process seconds of `--help`, usage errors, `list`,
a missing run directory and the first training step.

    python -m runners.benchmarks.cli_startup [--repeats 7] [TREE ...]

Each TREE (default: this checkout) is a source tree put on PYTHONPATH; the commands of
all trees are run interleaved (tree A, tree B, A, B, ...), with OMP_NUM_THREADS=1, and
the median of the repeats is printed as a markdown table, one column per tree. "first
step" is `train vae` on the digits stopped (SIGKILL, through the test suite's fault
hook) as soon as its first optimiser step is done: launch to first step.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMANDS: list[tuple[str, list[str]]] = [
    ("pyro-vaes --help", ["--help"]),
    ("pyro-vaes train --help", ["train", "--help"]),
    ("pyro-vaes train vae --help", ["train", "vae", "--help"]),
    ("pyro-vaes train ccvae --help", ["train", "ccvae", "--help"]),
    ("pyro-vaes analyze metrics --help", ["analyze", "metrics", "--help"]),
    ("pyro-vaes evaluate --help", ["evaluate", "--help"]),
    ("usage error: train vae --epochs 0", ["train", "vae", "--epochs", "0"]),
    ("usage error: train vae --bogus", ["train", "vae", "--bogus"]),
    ("pyro-vaes list", ["list"]),
    ("missing run: evaluate /no/such/run", ["evaluate", "/no/such/run"]),
    ("missing run: sample /no/such/run", ["sample", "/no/such/run"]),
]
FIRST_STEP = "train vae (digits): launch to first step"


def _seconds(tree: Path, args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "runners.cli", *args], cwd=tree, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trees", nargs="*", type=Path,
                        default=[Path(__file__).resolve().parents[2]])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    trees = [tree.resolve() for tree in args.trees]
    times: dict[tuple[str, Path], list[float]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for repeat in range(args.repeats):
            for name, command in [*COMMANDS, (FIRST_STEP, None)]:
                for tree in trees:
                    env = {**os.environ, "PYTHONPATH": str(tree), "OMP_NUM_THREADS": "1"}
                    if command is None:
                        out = Path(scratch) / f"run-{repeat}-{trees.index(tree)}"
                        command = ["train", "vae", "--out", str(out), "--no-progress"]
                        env["PYRO_VAES_FAULT"] = "step:1:kill"
                        seconds = _seconds(tree, command, env)
                        command = None
                    else:
                        seconds = _seconds(tree, command, env)
                    times.setdefault((name, tree), []).append(seconds)
    print("| command | " + " | ".join(str(tree) for tree in trees) + " |")
    print("|---|" + "---|" * len(trees))
    for name, _ in [*COMMANDS, (FIRST_STEP, None)]:
        cells = [f"{statistics.median(times[(name, tree)]):.2f} s" for tree in trees]
        print(f"| {name} | " + " | ".join(cells) + " |")
    print(f"\nmedian of {args.repeats} interleaved whole-process runs, OMP_NUM_THREADS=1")


if __name__ == "__main__":
    main()
