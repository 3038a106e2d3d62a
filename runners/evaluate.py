"""`pyro-vaes evaluate RUN`: test ELBO, importance-weighted log-likelihood, model measures."""

from __future__ import annotations

import json
from pathlib import Path

import click

from pyro_vaes import api


@click.command("evaluate")
@click.argument("run", type=click.Path(path_type=Path))
@click.option("--split", type=click.Choice(["test", "val", "train"]), default="test",
              show_default=True, help="which split to evaluate on")
@click.option("--num-samples", "-k", type=click.IntRange(min=1, max=100_000), default=100,
              show_default=True,
              help="importance samples K per data point for the log-likelihood estimate")
@click.option("--batch-size", type=click.IntRange(min=1, max=1_000_000), default=256,
              show_default=True,
              help="data points per evaluation batch")
@click.option("--seed", type=click.IntRange(min=0, max=2**32 - 1), default=0,
              show_default=True, help="random seed of the estimates")
@click.option("--device", default="cpu", show_default=True, help="torch device")
def evaluate_command(run: Path, split: str, num_samples: int, batch_size: int, seed: int,
                     device: str) -> None:
    """Evaluate a trained run; prints the figures and writes RUN/evaluation-SPLIT.json."""
    loaded = api.load_run(run, device)
    results = api.evaluate(loaded, split=split, num_samples=num_samples, batch_size=batch_size,
                           seed=seed)
    path = loaded.directory.root / f"evaluation-{split}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    width = max(len(k) for k in results)
    for key, value in results.items():
        shown = f"{value:.4f}" if isinstance(value, float) else value
        click.echo(f"{key:<{width}}  {shown}")
    click.echo(f"written {path}")
