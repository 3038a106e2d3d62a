"""Entry point of the `pyro-vaes` console script.

Exit codes:

- 0: done.
- 2: bad input (options, paths, missing or corrupt files, a checkpoint of another
  model): one line, ``Error: ...``, on stderr naming the problem and the fix; no
  traceback, nothing already written changed.
- 3: training diverged (the loss became NaN or infinite): one line naming the epoch
  and step; the last good checkpoint is kept, ``--resume`` with a lower ``--lr``.
- 130: interrupted (Ctrl-C); the last completed checkpoint is kept.
- 1: anything else (a bug: the traceback is printed).
"""

from __future__ import annotations

import sys

import click

from pyro_vaes.errors import PyroVAEsError, TrainingInterrupted
from runners.analyze import analyze_group
from runners.evaluate import evaluate_command
from runners.intervene import intervene_group
from runners.listing import list_command
from runners.render import render_group
from runners.report import report_command
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
cli.add_command(report_command)
cli.add_command(list_command)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        # make_context + invoke rather than cli.main: click's main turns Ctrl-C into
        # "Aborted!" and exit code 1, and prints a blank line first.
        with cli.make_context("pyro-vaes", args) as ctx:
            result = cli.invoke(ctx)
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
        return error.exit_code
    except (KeyboardInterrupt, click.Abort) as interrupt:
        message = _one_line(str(interrupt)) if isinstance(interrupt, TrainingInterrupted) else ""
        click.echo(f"Interrupted{': ' + message if message else '.'}", err=True)
        return 130


if __name__ == "__main__":
    sys.exit(main())
