"""Benchmark: time of every disentanglement metric on 10,000 points x 10 latents x 5 factors.

    OMP_NUM_THREADS=1 python -m runners.benchmarks.metrics_speed [--points 10000] [--repeats 3]

The factors are drawn uniformly from the full grid of the shapes data set (3, 6,
10, 16 and 16 levels); the codes are a partly disentangled representation: five
latents that each follow one factor (level / levels + N(0, 0.05^2)), three that
mix all factors and two of pure noise, with encoder scales 0.05. Each metric runs
through the same registry as `pyro-vaes analyze metrics` with its default (the
published) definition; the table gives the median wall time and process CPU
time of ``--repeats`` runs (one for DCI, which dominates) and the score. On a
shared machine the CPU time is the steadier figure. The DCI variant with 10
trees (the project's earlier default) is timed for comparison. ``--metrics``
restricts the run to some metrics (comma-separated names).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
import torch

from pyro_vaes.analysis.disentanglement import METRICS, score_codes, select_metrics
from pyro_vaes.analysis.metrics import dci

LEVELS = (3, 6, 10, 16, 16)


def synthetic_codes(num_points: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(loc (N, 10), scale (N, 10), factors (N, 5)) of the representation described above."""
    rng = np.random.default_rng(seed)
    factors = np.stack([rng.integers(n, size=num_points) for n in LEVELS], axis=1)
    scaled = factors / np.array(LEVELS)
    aligned = scaled + 0.05 * rng.normal(size=scaled.shape)
    mixed = scaled @ rng.normal(size=(len(LEVELS), 3)) + 0.1 * rng.normal(size=(num_points, 3))
    noise = rng.normal(size=(num_points, 2))
    loc = np.concatenate([aligned, mixed, noise], axis=1)
    return loc, np.full(loc.shape, 0.05), factors


def timed(fn, repeats: int) -> tuple[float, float, object]:
    """(median wall seconds, median CPU seconds of this process, last result) of calls."""
    wall, cpu, result = [], [], None
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(wall), statistics.median(cpu), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--metrics", default=",".join(METRICS),
                        help="comma-separated metric names  [default: all]")
    parser.add_argument("--skip-variant", action="store_true",
                        help="do not time the 10-tree DCI variant")
    args = parser.parse_args()
    names = select_metrics([args.metrics])
    loc, scale, factors = synthetic_codes(args.points, args.seed)
    print(f"# Metric speed: {loc.shape[0]} points x {loc.shape[1]} latents x {factors.shape[1]} "
          f"factors (levels {', '.join(map(str, LEVELS))}); torch threads "
          f"{torch.get_num_threads()}, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '-')}\n")
    print("| metric | wall s | CPU s | scores |")
    print("|---|---:|---:|---|")
    total = total_cpu = 0.0
    for name in names:
        repeats = 1 if name == "dci" else args.repeats
        wall, cpu, scores = timed(lambda n=name: score_codes(
            loc, scale, factors, seed=args.seed, metrics=[n]), repeats)
        total, total_cpu = total + wall, total_cpu + cpu
        shown = ", ".join(f"{key} {value:.3f}" for key, value in scores.items())
        print(f"| {name} | {wall:.2f} | {cpu:.2f} | {shown} |", flush=True)
    if not args.skip_variant:
        wall, cpu, fast = timed(lambda: dci(loc, factors, seed=args.seed, num_estimators=10,
                                            completeness="mean"), 1)
        print(f"| dci, 10 trees (earlier variant) | {wall:.2f} | {cpu:.2f} | "
              f"D {fast.disentanglement:.3f}, C {fast.completeness:.3f}, "
              f"I {fast.informativeness:.3f} |")
    print(f"\nselected default metrics: {total:.1f} s wall, {total_cpu:.1f} s CPU")


if __name__ == "__main__":
    main()
