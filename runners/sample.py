"""`pyro-vaes sample RUN`: a grid of images decoded from prior samples."""

from __future__ import annotations

import math
from pathlib import Path

import click

from pyro_vaes import api
from pyro_vaes.figures import save_image_grid


@click.command("sample")
@click.argument("run", type=click.Path(path_type=Path))
@click.option("--num-samples", "-n", type=click.IntRange(min=1, max=1024), default=64,
              show_default=True, help="number of images")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="random seed of the prior draws")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="PNG to write  [default: RUN/figures/samples-seedSEED-nN.png]")
@click.option("--device", default="cpu", show_default=True, help="torch device")
def sample_command(run: Path, num_samples: int, seed: int, out: Path | None, device: str) -> None:
    """Draw z from the prior, decode, and save the mean images as a PNG grid."""
    loaded = api.load_run(run, device)
    images = api.sample(loaded, num_samples, seed)
    out = out or loaded.directory.figures / f"samples-seed{seed}-n{num_samples}.png"
    nrow = int(math.ceil(math.sqrt(num_samples)))
    save_image_grid(images, out, nrow=nrow,
                    title=f"{loaded.model_name}: {num_samples} prior samples (seed {seed})")
    click.echo(f"written {out}")
