"""Time ``mixture_mutual_information`` for D = 50 latents and growing N.

Run ``python3 -m runners.benchmarks.mi_speed``; it prints a markdown table. Each N
runs in a fresh subprocess that builds its inputs, warms the kernels up on a
tiny problem, then times the call and reads the process's peak resident set
size (``ru_maxrss``) before and after it. "Peak extra RSS" is the peak RSS
during the call minus the RSS when the call started (inputs already built);
when the call did not raise the process's earlier peak, the table shows an
upper bound ("<=").
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time


def _current_rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _worker(num_points: int, dims: int, repeats: int, seed: int,
            threads: int | None) -> dict[str, float | bool]:
    """Time one configuration in this process and measure its peak extra RSS."""
    import torch

    if threads is not None:
        torch.set_num_threads(threads)

    from pyro_vaes.analysis.mutual_information import mixture_mutual_information

    generator = torch.Generator().manual_seed(seed)
    loc = torch.randn(num_points, dims, generator=generator)
    scale = 0.1 + 0.5 * torch.rand(num_points, dims, generator=generator)
    mixture_mutual_information(loc[:64], scale[:64], generator=generator)  # warm-up
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rss_start = _current_rss_kib()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        mixture_mutual_information(loc, scale, generator=generator)
        times.append(time.perf_counter() - start)
    peak_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    raised = peak_after > peak_before
    extra_kib = (peak_after if raised else peak_before) - rss_start
    return {"seconds": min(times), "extra_mib": extra_kib / 1024, "exact": raised,
            "threads": torch.get_num_threads()}


def _table(rows: list[tuple[int, dict[str, float | bool]]]) -> str:
    base_n, base = rows[0]
    base_rate = float(base["seconds"]) / base_n**2
    lines = [f"| N | seconds | peak extra RSS (MiB) | (s / N^2) / (s / N^2 at N={base_n}) |",
             "|---:|---:|---:|---:|"]
    for n, row in rows:
        bound = "" if row["exact"] else "<= "
        ratio = float(row["seconds"]) / n**2 / base_rate
        lines.append(f"| {n} | {float(row['seconds']):.2f} | {bound}{float(row['extra_mib']):.0f} "
                     f"| {ratio:.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Run one subprocess per N and print the markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1250, 2500, 5000, 10000])
    parser.add_argument("--dims", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3, help="the best of this many calls")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker is not None:
        print(json.dumps(_worker(args.worker, args.dims, args.repeats, args.seed, args.threads)))
        return
    rows = []
    for n in args.sizes:
        command = [sys.executable, "-m", "runners.benchmarks.mi_speed", "--worker", str(n),
                   "--dims", str(args.dims), "--repeats", str(args.repeats),
                   "--seed", str(args.seed)]
        if args.threads is not None:
            command += ["--threads", str(args.threads)]
        out = subprocess.run(command, check=True, capture_output=True, text=True,
                             env=os.environ.copy())
        rows.append((n, json.loads(out.stdout.strip().splitlines()[-1])))
    threads = rows[0][1]["threads"]
    print(f"D = {args.dims}, num_samples = 1, best of {args.repeats} calls, "
          f"torch threads = {threads}, {os.cpu_count()} CPUs")
    print()
    print(_table(rows))


if __name__ == "__main__":
    main()
