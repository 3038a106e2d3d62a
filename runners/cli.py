"""Entry point of the `pyro-vaes` console script.

Errors a user can cause (bad options, missing or corrupt files, a checkpoint
of another model) print one line, ``Error: ...``, to stderr and exit with
code 2; no traceback.
"""

from __future__ import annotations

import sys

import click

from pyro_vaes.errors import PyroVAEsError
from runners.analyze import analyze_group
from runners.evaluate import evaluate_command
from runners.intervene import intervene_group
from runners.listing import list_command
from runners.render import render_group
from runners.sample import sample_command
from runners.train import train_group


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="pyro-vaes")
def cli() -> None:
    """Label-aware and group-aware VAEs as Pyro model/guide pairs: train, evaluate, analyse."""


cli.add_command(train_group)
cli.add_command(evaluate_command)
cli.add_command(sample_command)
cli.add_command(render_group)
cli.add_command(intervene_group)
cli.add_command(analyze_group)
cli.add_command(list_command)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    try:
        result = cli.main(args=argv, prog_name="pyro-vaes", standalone_mode=False)
        return result if isinstance(result, int) else 0
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.UsageError as error:
        where = f" (see `{error.ctx.command_path} --help`)" if error.ctx else ""
        click.echo(f"Error: {_one_line(error.format_message())}{where}", err=True)
        return 2
    except click.ClickException as error:
        click.echo(f"Error: {_one_line(error.format_message())}", err=True)
        return 2
    except PyroVAEsError as error:
        click.echo(f"Error: {_one_line(str(error))}", err=True)
        return 2
    except click.Abort:
        click.echo("Aborted.", err=True)
        return 1
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        return 130


if __name__ == "__main__":
    sys.exit(main())
