"""`pyro-vaes report RUN`: one self-contained HTML page of a run, with a latent explorer."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pyro_vaes.choices import CHECKPOINTS
from runners.options import FiniteFloat


@click.command("report")
@click.argument("run", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="HTML file to write  [default: RUN/report.html]")
@click.option("--checkpoint", type=click.Choice(list(CHECKPOINTS)), default="last",
              show_default=True, help="weights of the last epoch (checkpoint.pt) or of the "
                                      "best one (best.pt)")
@click.option("--force", is_flag=True, default=False,
              help="replace the output file if it exists (never done otherwise)")
@click.option("--images", type=click.IntRange(min=1, max=32), default=8, show_default=True,
              help="test images to pick from in the latent explorer (the first of the split)")
@click.option("--steps", type=click.IntRange(min=3, max=31), default=11, show_default=True,
              help="precomputed frames per slider")
@click.option("--span", type=FiniteFloat(min=0.0, min_open=True), default=3.0,
              show_default=True, help="a slider sweeps the posterior mean +/- this many "
                                      "posterior standard deviations (CCVAE z_c: between its "
                                      "conditional-prior modes)")
@click.option("--limit", type=click.IntRange(min=2), default=2000, show_default=True,
              help="test images for the mutual information, and for the evaluation when the "
                   "run has no evaluation JSON")
@click.option("--seed", type=click.IntRange(min=0, max=2**32 - 1), default=0,
              show_default=True, help="random seed of the estimates and interventions")
@click.option("--device", default="cpu", show_default=True, help="torch device")
@click.option("--progress/--no-progress", default=None,
              help="show a progress bar  [default: when stderr is a terminal]")
def report_command(run: Path, out: Path | None, checkpoint: str, force: bool, images: int,
                   steps: int, span: float, limit: int, seed: int, device: str,
                   progress: bool | None) -> None:
    """Write one HTML file (everything embedded, no network needed) with the run's options,
    data, training curves and evaluation, a latent explorer (one slider per latent dimension
    over precomputed decoded frames, beside its mutual information), the model's
    interventions and its predictions on the test split."""
    from pyro_vaes import api
    from pyro_vaes.outputs import check_new_file
    from pyro_vaes.report.build import SUFFIXES, ReportOptions, write_report
    from pyro_vaes.runs import RunDirectory

    directory = RunDirectory.open(run)
    out = out or directory.root / "report.html"
    check_new_file(out, force=force, suffixes=SUFFIXES)
    loaded = api.load_run(run, device, which=checkpoint)
    options = ReportOptions(images=images, steps=steps, span=span, limit=limit, seed=seed)
    path = write_report(loaded, out, checkpoint, options, force=force,
                        progress=sys.stderr.isatty() if progress is None else progress)
    click.echo(f"written {path} ({path.stat().st_size / 2**20:.1f} MiB)")
