"""`pyro-vaes evaluate RUN`: test ELBO, importance-weighted log-likelihood, model measures."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from pyro_vaes.choices import CHECKPOINTS
from pyro_vaes.errors import CheckpointError, ConfigError
from pyro_vaes.outputs import write_text_atomically
from runners.options import CountOrWord, RunDirectoryPath


@click.command("evaluate")
@click.argument("run", type=RunDirectoryPath())
@click.option("--split", type=click.Choice(["test", "val", "train"]), default="test",
              show_default=True, help="which split to evaluate on")
@click.option("--num-samples", "-k", type=click.IntRange(min=1, max=100_000), default=100,
              show_default=True,
              help="importance samples K per data point of the importance-weighted "
                   "log-likelihood bound")
@click.option("--iw-images", type=CountOrWord(("auto", "all")), default="auto",
              show_default=True,
              help="data points of the K-sample bound: a seeded random subset of N with its "
                   "standard error, 'all' for the whole split (K x the split's forward "
                   "passes: minutes with conv nets), 'auto' for the points holding about "
                   "1000 images (a group of images is one point for mlvae); the ELBO always "
                   "covers the whole split")
@click.option("--batch-size", type=click.IntRange(min=1, max=1_000_000), default=256,
              show_default=True,
              help="data points per evaluation batch")
@click.option("--seed", type=click.IntRange(min=0, max=2**32 - 1), default=0,
              show_default=True, help="random seed of the estimates")
@click.option("--device", default="cpu", show_default=True, help="torch device")
@click.option("--threads", type=CountOrWord(("auto",)), default="auto", show_default=True,
              help="CPU threads of torch's operations, as for `pyro-vaes train --threads` "
                   "(auto: OMP_NUM_THREADS when set, else one unless 3 cores are idle)")
@click.option("--measures", default=None, show_default="all",
              help="comma-separated groups of measures to compute: likelihood and the "
                   "model's own (ccvae, m2: accuracy, leakage, interventions, diversity; "
                   "parted: accuracy, probes, overlaps, factors; mlvae: probes, "
                   "accumulated_probe, heldout)")
@click.option("--checkpoint", type=click.Choice(list(CHECKPOINTS)), default="last",
              show_default=True, help="weights of the last epoch (checkpoint.pt) or of the "
                                      "best one by the run's --early-stop-on (best.pt)")
@click.option("--judge-cache", type=click.Path(file_okay=False, path_type=Path), default=None,
              show_default="RUN/cache", help="directory keeping the image classifier that "
                                             "judges interventions (one per data set; give "
                                             "the same directory to share it between runs)")
@click.option("--progress/--no-progress", default=None,
              help="show a progress bar  [default: when stderr is a terminal]")
@click.option("--force", is_flag=True, default=False,
              help="replace an evaluation JSON this command wrote before")
def evaluate_command(run: Path, split: str, num_samples: int, iw_images: int | str,
                     batch_size: int, seed: int,
                     device: str, threads: int | str, measures: str | None, checkpoint: str,
                     judge_cache: Path | None, progress: bool | None, force: bool) -> None:
    """Evaluate a trained run; prints the figures and writes RUN/evaluation-SPLIT.json
    (RUN/evaluation-SPLIT-best.json with --checkpoint best).

    The ELBO covers the whole split; the K-sample importance-weighted bound a seeded random
    subset (--iw-images; 'all' for the whole split). Each figure comes with its standard
    error (_stderr) and the images it used (_images)."""
    # Everything that needs no model is refused before torch loads.
    suffix = "" if checkpoint == "last" else f"-{checkpoint}"
    path = run / f"evaluation-{split}{suffix}.json"
    if path.exists() and not force:
        raise ConfigError(f"{path} already exists; pass --force to replace it (or copy it "
                          f"elsewhere first)")
    if checkpoint == "best" and not (run / "best.pt").is_file():
        raise CheckpointError(f"{run / 'best.pt'}: no best checkpoint in this run (written by "
                              f"versions that track the best epoch); use --checkpoint last")

    from pyro_vaes import api

    loaded = api.load_run(run, device, which=checkpoint)
    if progress is None:
        progress = sys.stderr.isatty()
    results = api.evaluate(loaded, split=split, num_samples=num_samples, iw_images=iw_images,
                           batch_size=batch_size,
                           seed=seed, measures=measures, judge_cache=judge_cache,
                           progress=progress, threads=threads)
    results = {"checkpoint": checkpoint, **results}
    write_text_atomically(path, json.dumps(results, indent=2) + "\n")
    width = max(len(k) for k in results)
    for key, value in results.items():
        shown = f"{value:.4f}" if isinstance(value, float) else value
        if isinstance(value, list):
            shown = ",".join(str(v) for v in value)
        click.echo(f"{key:<{width}}  {shown}")
    click.echo(f"written {path}")
