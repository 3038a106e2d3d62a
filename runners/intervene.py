"""`pyro-vaes intervene KIND RUN`: traversals, conditional generation, swaps, flips."""

from __future__ import annotations

from pathlib import Path

import click
from click.core import ParameterSource

from pyro_vaes.interventions import KINDS
from runners.options import FiniteFloat, RunDirectoryPath

_HELP = {
    "traverse": "Sweep latents (CCVAE: each characteristic latent between its two "
                "conditional-prior modes; 2-D grids over a pair of --label).",
    "generate": "Generate new images for a chosen label or group (many per row).",
    "swap": "Combine one latent part of one image with the rest of another, as a grid.",
    "flip": "Resample a characteristic latent from the prior of the flipped label.",
    "interpolate": "Interpolate a shared latent between two images or groups.",
}


def make_intervene_command(kind: str) -> click.Command:
    """The `intervene KIND` command."""

    @click.command(kind, help=_HELP[kind] + " Writes PNG grids into RUN/figures/interventions.")
    @click.argument("run", type=RunDirectoryPath())
    @click.option("--num-images", type=click.IntRange(min=1, max=64), default=6,
                  show_default=True, help="test images (rows) to intervene on")
    @click.option("--steps", type=click.IntRange(min=2, max=32), default=9, show_default=True,
                  help="points along each traversal or interpolation")
    @click.option("--num-samples", type=click.IntRange(min=1, max=64), default=10,
                  show_default=True, help="samples per row for generation")
    @click.option("--label", "labels", multiple=True,
                  help="label, attribute or class name to act on (repeat; default: all)")
    @click.option("--span", type=FiniteFloat(min=0.0, min_open=True), default=2.0,
                  show_default=True, help="how many prior standard deviations a traversal "
                                          "extends beyond its end points")
    @click.option("--seed", type=click.IntRange(min=0, max=2**32 - 1), default=0,
                  show_default=True, help="random seed")
    @click.option("--out", type=click.Path(path_type=Path), default=None,
                  help="directory for the PNGs  [default: RUN/figures/interventions]")
    @click.option("--force", is_flag=True, default=False,
                  help="overwrite PNGs of an earlier call in the output directory (never "
                       "done otherwise)")
    @click.option("--device", default="cpu", show_default=True, help="torch device")
    def command(run: Path, num_images: int, steps: int, num_samples: int,
                labels: tuple[str, ...], span: float, seed: int, out: Path | None,
                force: bool, device: str) -> None:
        from pyro_vaes import api
        from pyro_vaes.interventions import (
            OPTION_FIELDS,
            InterventionOptions,
            intervention,
            unused_options,
        )
        from pyro_vaes.outputs import check_writable_directory, write_staged
        from pyro_vaes.runs import RunDirectory

        option = "--out" if out is not None else "--out (the default is RUN/figures/interventions)"
        out = out or RunDirectory.open(run).figures / "interventions"
        check_writable_directory(out)
        loaded = api.load_run(run, device)
        # every model registers its interventions, so that a refusal can name those with KIND
        import pyro_vaes.models.registry  # noqa: F401

        fn = intervention(loaded.model_name, kind)
        context = click.get_current_context()
        given = {name for name in OPTION_FIELDS
                 if context.get_parameter_source(name) == ParameterSource.COMMANDLINE}
        unused = unused_options(loaded.model_name, kind, given)
        if unused:
            click.echo(f"Note: {unused}", err=True)
        options = InterventionOptions(num_images=num_images, steps=steps,
                                      num_samples=num_samples, labels=list(labels), span=span,
                                      seed=seed)
        # The grids' names are known only once drawn: draw into a staging directory, then
        # move them in, refusing (without --force) to replace a file already there.
        for path in write_staged(out, lambda staging: fn(loaded, staging, options),
                                 force=force, option=option):
            click.echo(f"written {path}")

    return command


@click.group("intervene")
def intervene_group() -> None:
    """Intervene on a trained model's latents and draw the result."""


for _kind in KINDS:
    intervene_group.add_command(make_intervene_command(_kind))
