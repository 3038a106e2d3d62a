"""Gather a run's report page and write it as one self-contained HTML file."""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyro_vaes.errors import ConfigError
from pyro_vaes.outputs import check_new_file, write_text_atomically
from pyro_vaes.report.content import Page
from pyro_vaes.report.explorer import build_explorer
from pyro_vaes.report.grids import confusion, intervention_grids, report_kinds
from pyro_vaes.report.page import render
from pyro_vaes.report.summary import curves, evaluation, overview_tables, read_metrics

SUFFIXES = (".html", ".htm")


@dataclass
class ReportOptions:
    """What a report computes: the explorer's ``images`` (first test images), ``steps``
    frames per slider over +/- ``span`` posterior sds, mutual information and (when the run
    has no evaluation JSON) the evaluation over the first ``limit`` test images, ``seed``."""

    images: int = 8
    steps: int = 11
    span: float = 3.0
    limit: int = 2000
    seed: int = 0


def check_options(run: Any, options: ReportOptions) -> None:
    """Refuse options the run cannot satisfy (one line naming the fix)."""
    test = len(run.splits.test)
    if options.images > test:
        raise ConfigError(f"--images {options.images} is more than the {test} test images of "
                          f"this run; give at most {test}")
    if options.steps < 2:
        raise ConfigError(f"--steps {options.steps}: a slider needs at least 2 frames")


def build_page(run: Any, which: str = "last", options: ReportOptions | None = None, *,
               progress: bool = False) -> Page:
    """Everything the report of a loaded run shows (``which``: the checkpoint it was loaded
    from); ``progress`` shows a progress bar on stderr."""
    from tqdm.auto import tqdm

    options = options or ReportOptions()
    check_options(run, options)
    epoch = run.history[-1]["epoch"] if run.history else 0
    total = 4 + min(options.images, len(run.splits.test)) + len(report_kinds(run))
    bar = tqdm(total=total, desc="report", unit="step", disable=not progress)

    def step(name: str) -> None:
        bar.update(1)
        bar.set_postfix_str(name)

    try:
        bar.set_postfix_str("run")
        overview = overview_tables(run, which, epoch)
        series = curves(read_metrics(run.directory.metrics))
        step("evaluation")
        figures = evaluation(run, which, epoch, options.limit, options.seed)
        step("latents")
        explorer = build_explorer(run, num_images=options.images, steps=options.steps,
                                  span=options.span, limit=options.limit, seed=options.seed,
                                  tick=lambda: step("frames"))
        grids = intervention_grids(run, options.seed, tick=lambda: step("interventions"))
        matrix = confusion(run)
        step("page")
    finally:
        bar.close()
    elbo = figures.values.get("test_elbo")
    shown = f" · test ELBO {elbo:.2f}" if isinstance(elbo, float) else ""
    written = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    subtitle = (f"{run.train_config.data} · epoch {epoch} ({which} checkpoint){shown} · "
                f"{run.directory.root} · written {written}")
    return Page(f"pyro-vaes report: {run.model_name}", subtitle, overview, series, epoch,
                figures, explorer, grids, matrix)


def write_report(run: Any, out: str | Path, which: str = "last",
                 options: ReportOptions | None = None, *, force: bool = False,
                 progress: bool = False) -> Path:
    """Write the report of a loaded run to ``out`` (an .html file; an existing one only with
    ``force``), atomically, after everything is computed."""
    out = Path(out)
    check_new_file(out, force=force, suffixes=SUFFIXES)
    html = render(build_page(run, which, options, progress=progress))
    check_new_file(out, force=force, suffixes=SUFFIXES)
    write_text_atomically(out, html)
    umask = os.umask(0)
    os.umask(umask)
    out.chmod(0o666 & ~umask)         # readable by others, as a file open() makes: to share
    return out
