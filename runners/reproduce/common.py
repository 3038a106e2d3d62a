"""What every reproduction program shares: resumable runs two at a time, seed statistics,
claims with verdicts, and its own section of docs/reproduction.md.

A program lists :class:`RunSpec` s (a model, its command-line options, a seed). Each one is
trained with ``pyro-vaes train`` in its own process (one thread, ``jobs`` processes at a
time) and then evaluated with ``pyro-vaes evaluate --checkpoint best``; a run whose
directory already holds a finished run and its evaluation is not trained again, and one
that was interrupted is resumed, so a program killed half-way continues where it stopped.
The program then reads the run directories, computes what its claims need, and writes a
table with one row per claim: the claim, the measured figure (mean +- sd over seeds), the
same figure for the baseline trained by the same engine with the same nets, the target
and the verdict.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
REPRODUCTION_PAGE = DOCS / "reproduction.md"
FIGURES = DOCS / "figures"


# -- printing stages ----------------------------------------------------------------------
class Stages:
    """Prints each stage of a program with the time since the program started."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.start = time.perf_counter()
        self.load_start = os.getloadavg()

    def elapsed(self) -> float:
        """Seconds since the program started."""
        return time.perf_counter() - self.start

    def __call__(self, message: str) -> None:
        minutes, seconds = divmod(int(self.elapsed()), 60)
        print(f"[{self.name} {minutes:3d}:{seconds:02d}] {message}", flush=True)

    def summary(self) -> str:
        """Wall time and the machine's load averages at the start and now."""
        now = os.getloadavg()
        return (f"{self.elapsed() / 60:.1f} min wall; 1-minute load average "
                f"{self.load_start[0]:.1f} at the start, {now[0]:.1f} at the end "
                f"(15-minute {now[2]:.1f}), {os.cpu_count()} CPU cores")


# -- runs ---------------------------------------------------------------------------------
def option_args(options: dict[str, Any]) -> list[str]:
    """``{"labels": 600, "net": "mlp"}`` -> ``["--labels", "600", "--net", "mlp"]``."""
    args: list[str] = []
    for key, value in options.items():
        flag = "--" + key.replace("_", "-")
        if isinstance(value, bool):
            args.append(flag if value else "--no-" + flag[2:])
        elif value is not None:
            args += [flag, str(value)]
    return args


@dataclass(frozen=True)
class RunSpec:
    """One training run of a program: ``pyro-vaes train MODEL`` with these options."""

    name: str
    model: str
    options: dict[str, Any] = field(hash=False)
    measures: str | None = None          # evaluate --measures (None: all the model's)
    evaluate: bool = True
    checkpoint: str = "best"             # evaluate --checkpoint: best (validation) or last

    def directory(self, work: Path) -> Path:
        """The run directory under the program's work directory."""
        return work / self.name


@dataclass
class Environment:
    """Where a program works and how it runs its trainings."""

    work: Path
    jobs: int = 2
    judge_cache: Path | None = None
    stages: Stages | None = None

    def env(self) -> dict[str, str]:
        """Child processes: one thread each, this checkout first on the path."""
        return {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def _finished(directory: Path) -> bool:
    """True when the run in ``directory`` trained to its end (all epochs, or early stopped)."""
    marker = directory / "finished.json"
    return marker.is_file()


def _cli(env: Environment, *args: str, log: Path) -> int:
    with log.open("a") as handle:
        handle.write(f"$ pyro-vaes {' '.join(args)}\n")
        handle.flush()
        done = subprocess.run([sys.executable, "-m", "runners.cli", *args], cwd=ROOT,
                              env=env.env(), stdout=handle, stderr=subprocess.STDOUT)
    return done.returncode


def _train_and_evaluate(spec: RunSpec, env: Environment) -> Path:
    directory = spec.directory(env.work)
    log = env.work / f"{spec.name}.log"
    say = env.stages or print
    if not _finished(directory):
        started = time.perf_counter()
        resume = ["--resume"] if (directory / "checkpoint.pt").is_file() else []
        say(f"train {spec.name}{' (resumed)' if resume else ''}")
        code = _cli(env, "train", spec.model, "--out", str(directory), "--no-progress",
                    *option_args(spec.options), *resume, log=log)
        if code != 0 and not _stopped_early(log):
            raise RuntimeError(f"training {spec.name} failed with exit code {code}; see {log}")
        history = read_history(directory)
        (directory / "finished.json").write_text(json.dumps(
            {"epochs": len(history), "wall_seconds": time.perf_counter() - started,
             "resumed": bool(resume)}) + "\n")
        say(f"trained {spec.name}: {len(history)} epochs in "
            f"{(time.perf_counter() - started) / 60:.1f} min")
    evaluation = directory / evaluation_file(spec.checkpoint)
    if spec.evaluate and not evaluation.is_file():
        started = time.perf_counter()
        args = ["evaluate", str(directory), "--checkpoint", spec.checkpoint, "--no-progress"]
        if spec.measures:
            args += ["--measures", spec.measures]
        if env.judge_cache is not None:
            args += ["--judge-cache", str(env.judge_cache)]
        code = _cli(env, *args, log=log)
        if code != 0:
            raise RuntimeError(f"evaluating {spec.name} failed with exit code {code}; see {log}")
        say(f"evaluated {spec.name} in {time.perf_counter() - started:.0f} s")
    return directory


def _stopped_early(log: Path) -> bool:
    """A resumed run that early stopping had already ended refuses to go on: it is done."""
    lines = log.read_text().strip().splitlines()
    return bool(lines) and "stopped early" in lines[-1]


def run_all(specs: Sequence[RunSpec], env: Environment) -> dict[str, Path]:
    """Train and evaluate every spec, ``env.jobs`` at a time; their run directories by name."""
    env.work.mkdir(parents=True, exist_ok=True)
    if env.judge_cache is not None:
        env.judge_cache.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=max(1, env.jobs)) as pool:
        directories = list(pool.map(lambda s: _train_and_evaluate(s, env), specs))
    return {spec.name: d for spec, d in zip(specs, directories, strict=True)}


def split_options(options: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    """Command-line style options -> (model options, TrainConfig) for ``api.train``."""
    import dataclasses

    from pyro_vaes.config import TrainConfig

    names = {f.name for f in dataclasses.fields(TrainConfig)}
    train = {k: v for k, v in options.items() if k in names}
    return {k: v for k, v in options.items() if k not in names}, TrainConfig(**train)


def read_history(directory: Path) -> list[dict[str, Any]]:
    """The epochs of RUN/metrics.jsonl."""
    path = directory / "metrics.jsonl"
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def evaluation_file(checkpoint: str) -> str:
    """The file `pyro-vaes evaluate RUN --checkpoint CHECKPOINT` writes on the test split."""
    return "evaluation-test.json" if checkpoint == "last" else f"evaluation-test-{checkpoint}.json"


def read_evaluation(directory: Path, checkpoint: str | None = None) -> dict[str, Any]:
    """The test evaluation of a run: of its best epoch (RUN/evaluation-test-best.json) or its
    last (RUN/evaluation-test.json); by default the best when there is one."""
    if checkpoint is None:
        checkpoint = "best" if (directory / evaluation_file("best")).is_file() else "last"
    return json.loads((directory / evaluation_file(checkpoint)).read_text())


def best_epoch(history: list[dict[str, Any]], measure: str) -> int:
    """The epoch with the best value of ``measure`` (highest)."""
    return max(history, key=lambda r: r[measure])["epoch"]


def loss_spikes(history: list[dict[str, Any]], window: int = 5) -> list[int]:
    """Epochs whose training loss is above twice the median of the ``window`` before it
    (for losses of either sign: more than |median| above the median)."""
    losses = [r["train_loss"] for r in history]
    spikes = []
    for t in range(window, len(losses)):
        median = statistics.median(losses[t - window:t])
        if losses[t] - median > abs(median):
            spikes.append(history[t]["epoch"])
    return spikes


# -- statistics and claims ----------------------------------------------------------------
@dataclass(frozen=True)
class Stat:
    """Mean and sample standard deviation of a figure over seeds."""

    values: tuple[float, ...]

    @classmethod
    def of(cls, values: Iterable[float]) -> Stat:
        return cls(tuple(float(v) for v in values))

    @property
    def mean(self) -> float:
        return statistics.fmean(self.values)

    @property
    def sd(self) -> float:
        return statistics.stdev(self.values) if len(self.values) > 1 else 0.0

    def format(self, digits: int = 3) -> str:
        """``0.852 ± 0.004 (3)`` (the count of seeds in brackets)."""
        if not self.values:
            return "—"
        if len(self.values) == 1:
            return f"{self.mean:.{digits}f} (1)"
        return f"{self.mean:.{digits}f} ± {self.sd:.{digits}f} ({len(self.values)})"


@dataclass
class Claim:
    """One row of a paper's table."""

    claim: str
    measured: Stat | str
    baseline: Stat | str | None
    target: str
    met: bool
    note: str = ""

    def row(self, digits: int = 3) -> str:
        def cell(value: Stat | str | None) -> str:
            if value is None:
                return "—"
            return value if isinstance(value, str) else value.format(digits)

        verdict = "**met**" if self.met else "**not met**"
        note = f" {self.note}" if self.note else ""
        return (f"| {self.claim} | {cell(self.measured)} | {cell(self.baseline)} | "
                f"{self.target} | {verdict}{note} |")


def claims_table(claims: Sequence[Claim], digits: int = 3) -> str:
    """The markdown table of a paper's claims."""
    head = ("| claim | measured (mean ± sd (seeds)) | baseline, same engine and nets | target "
            "| verdict |\n|---|---|---|---|---|")
    return "\n".join([head, *(c.row(digits) for c in claims)])


def at_least(measured: Stat, threshold: float) -> bool:
    """Mean at or above ``threshold``."""
    return measured.mean >= threshold


def at_most(measured: Stat, threshold: float) -> bool:
    """Mean at or below ``threshold``."""
    return measured.mean <= threshold


# -- the page -----------------------------------------------------------------------------
def write_section(key: str, markdown: str, page: Path = REPRODUCTION_PAGE) -> Path:
    """Put ``markdown`` between ``<!-- KEY:start -->`` and ``<!-- KEY:end -->`` in ``page``
    (appended when the markers are not there yet); the rest of the page is kept."""
    start, end = f"<!-- {key}:start -->", f"<!-- {key}:end -->"
    text = page.read_text() if page.is_file() else "# Reproduction\n"
    block = f"{start}\n{markdown.strip()}\n{end}"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        after = rest.split(end, 1)[1]
        text = before + block + after
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(text)
    return page


def publish_figure(source: Path, name: str, figures: Path = FIGURES) -> str:
    """Copy a PNG into docs/figures/ as ``name`` and return its markdown link (relative to
    docs/)."""
    figures.mkdir(parents=True, exist_ok=True)
    target = figures / name
    shutil.copyfile(source, target)
    return f"![{name}](figures/{name})"


def publish_figures(args: argparse.Namespace, written: Iterable[Path],
                    name: Callable[[Path], str] = lambda p: p.name) -> list[str]:
    """Publish each figure as ``name(path)`` beside the page the program writes
    (docs/figures/ for docs/reproduction.md; PAGE_DIR/figures/ for a --quick scratch page),
    so that the page's links resolve; their markdown links."""
    figures = FIGURES if args.page == REPRODUCTION_PAGE else args.page.parent / "figures"
    return [publish_figure(path, name(path), figures) for path in written]


def train_every_spec(specs: Sequence[RunSpec], env: Environment, args: argparse.Namespace,
                     stages: Stages) -> dict[str, Path]:
    """Say how many trainings and where, then :func:`run_all` them."""
    stages(f"{len(specs)} trainings, {args.jobs} at a time, in {args.work}")
    return run_all(specs, env)


def minutes(seconds: float) -> str:
    """``12.3 min``."""
    return f"{seconds / 60:.1f} min"


def seeds_for(quick: bool, seeds: int) -> list[int]:
    """The seeds of a program: one in quick mode."""
    return [0] if quick else list(range(seeds))


def mean_of(values: Iterable[float]) -> float:
    """Arithmetic mean (nan for no values)."""
    values = list(values)
    return statistics.fmean(values) if values else math.nan


def by_seed(names: Iterable[str], value: Callable[[str], float]) -> Stat:
    """A Stat of ``value(name)`` over run names (one per seed)."""
    return Stat.of(value(n) for n in names)


def program_parser(doc: str, *, seeds: int = 3, max_epochs: int = 60, patience: int = 10,
                   quick: str = "a smoke run on digits (2 epochs, one seed) to a scratch page"
                   ) -> argparse.ArgumentParser:
    """The options every reproduction program takes; a program adds its own before
    :func:`program_arguments` parses them."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=quick)
    parser.add_argument("--seeds", type=int, default=seeds, help="seeds per cell")
    parser.add_argument("--jobs", type=int, default=2, help="trainings at a time")
    parser.add_argument("--max-epochs", type=int, default=max_epochs)
    parser.add_argument("--patience", type=int, default=patience)
    parser.add_argument("--work", type=Path, default=None,
                        help="run directories [default: runs/reproduce/PROGRAM]")
    parser.add_argument("--page", type=Path, default=None,
                        help="page to write [default: docs/reproduction.md; with --quick, "
                             "WORK/reproduction.md]")
    return parser


def program_arguments(parser: argparse.ArgumentParser, argv: list[str] | None,
                      program: str) -> argparse.Namespace:
    """Parse; the run directories default to runs/reproduce/PROGRAM[-quick], the page to
    docs/reproduction.md (a scratch page in the run directories with --quick)."""
    args = parser.parse_args(argv)
    tag = f"{program}-quick" if args.quick else program
    args.work = args.work or ROOT / "runs" / "reproduce" / tag
    args.page = args.page or (args.work / "reproduction.md" if args.quick else REPRODUCTION_PAGE)
    return args
