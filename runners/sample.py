"""`pyro-vaes sample RUN`: a grid of images decoded from prior samples."""

from __future__ import annotations

import math
from pathlib import Path

import click

from runners.options import RunDirectoryPath


@click.command("sample")
@click.argument("run", type=RunDirectoryPath())
@click.option("--num-samples", "-n", type=click.IntRange(min=1, max=1024), default=64,
              show_default=True, help="number of images")
@click.option("--seed", type=click.IntRange(min=0, max=2**32 - 1), default=0, show_default=True,
              help="random seed of the prior draws")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="image file to write (.png, .pdf or .svg)  "
                   "[default: RUN/figures/samples-seedSEED-nN.png]")
@click.option("--force", is_flag=True, default=False,
              help="overwrite the output file if it exists (never done otherwise)")
@click.option("--device", default="cpu", show_default=True, help="torch device")
def sample_command(run: Path, num_samples: int, seed: int, out: Path | None, force: bool,
                   device: str) -> None:
    """Draw z from the prior, decode, and save the mean images as a PNG grid."""
    from pyro_vaes import api
    from pyro_vaes.errors import ConfigError
    from pyro_vaes.figures import save_image_grid
    from pyro_vaes.outputs import check_new_file
    from pyro_vaes.runs import RunDirectory

    directory = RunDirectory.open(run)
    default = out is None
    out = out or directory.figures / f"samples-seed{seed}-n{num_samples}.png"
    if default and out.exists() and not force:
        raise ConfigError(f"{out} already exists (the default file for --seed {seed} -n "
                          f"{num_samples}); pass --force to overwrite it, or --out FILE (or "
                          f"another --seed) to write another")
    check_new_file(out, force=force, make_parent=default)
    loaded = api.load_run(run, device)
    images = api.sample(loaded, num_samples, seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    nrow = int(math.ceil(math.sqrt(num_samples)))
    save_image_grid(images, out, nrow=nrow,
                    title=f"{loaded.model_name}: {num_samples} prior samples (seed {seed})")
    click.echo(f"written {out}")
