"""`pyro-vaes render MODEL`: the model and the guide drawn by pyro.render_model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from pyro_vaes.config import TrainConfig
from pyro_vaes.models.catalog import CATALOG
from runners.options import field_options, pick


def make_render_command(name: str) -> click.Command:
    """The `render NAME` command with the model's options."""
    entry = CATALOG[name]
    config_class = entry.config_class()

    def callback(out: Path, formats: tuple[str, ...], force: bool, data: str,
                 data_root: str | None, **values: Any) -> None:
        from pyro_vaes import api
        from pyro_vaes.outputs import check_new_files, check_writable_directory

        formats = formats or ("svg", "png")
        check_writable_directory(out)
        check_new_files([out / f"{name}-{role}.{fmt}" for role in ("model", "guide")
                         for fmt in formats] + [out / f"{name}-shapes.txt"], force=force)
        written = api.render(name, out, model_options=pick(config_class, values),
                             train_config=TrainConfig(data=data, data_root=data_root,
                                                      max_train=64),
                             formats=formats)
        for path in written:
            click.echo(f"written {path}")

    params: list[click.Parameter] = [
        click.Option(["--out"], type=click.Path(path_type=Path),
                     default=Path("renders"), show_default=True,
                     help="directory for MODEL-model.svg, MODEL-guide.svg, MODEL-shapes.txt"),
        click.Option(["--force"], is_flag=True, default=False,
                     help="overwrite drawings of an earlier call (never done otherwise)"),
        click.Option(["--format", "formats"], type=click.Choice(["svg", "png", "pdf"]),
                     multiple=True, help="image formats (repeat)  [default: svg and png]"),
        click.Option(["--data"], default="digits", show_default=True,
                     help="data set whose shapes the drawing uses"),
        click.Option(["--data-root"], default=None, show_default="none",
                     help="directory of the data set's files"),
    ]
    params += field_options(config_class)
    return click.Command(name, callback=callback, params=params,
                         help=f"Draw {entry.description} and its guide (graphviz), and write the "
                              f"trace's shape table.", short_help=entry.description)


@click.group("render")
def render_group() -> None:
    """Draw a model and its guide with pyro.render_model."""


for _name in CATALOG:
    render_group.add_command(make_render_command(_name))
