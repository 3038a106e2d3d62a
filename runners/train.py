"""`pyro-vaes train MODEL`: one sub-command per registered model.

The options are generated from the model's config dataclasses without importing the
model (``pyro_vaes.models.catalog``), so `--help` and usage errors answer at once; torch
and Pyro load when training starts.

``--config FILE`` reads an experiment file (``pyro_vaes.experiment``): the options it sets
replace the defaults, and the options typed on the command line replace both.
``--print-config`` writes the resolved options as a complete experiment file to stdout
and trains nothing.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from pyro_vaes.config import TrainConfig, validate
from pyro_vaes.descriptions import ELBO_DESCRIPTIONS
from pyro_vaes.experiment import experiment_toml, offered, read_experiment
from pyro_vaes.models.catalog import CATALOG, ModelEntry
from pyro_vaes.recipes import get_recipe
from runners.options import field_options, pick


def _default_out(model: str) -> Path:
    return Path("runs") / f"{model}-{time.strftime('%Y%m%d-%H%M%S')}"


def _given_on_command_line(values: dict[str, Any]) -> dict[str, Any]:
    """The options the user typed (not those left at their defaults)."""
    context = click.get_current_context()
    return {key: value for key, value in values.items()
            if context.get_parameter_source(key) in (ParameterSource.COMMANDLINE,
                                                     ParameterSource.ENVIRONMENT)}


def _data_point(run: Any) -> str:
    """What one data point of the run's ELBO is: an image, or (ML-VAE) a group."""
    if run.model.plan != "grouped":
        return "per image"
    config = run.model.config
    size = config.max_group_size or config.group_size   # a group's last chunk may be smaller
    return f"per group of up to {size} images sharing its {config.group_by}"


def _train_fields_for(plan: str):
    def include(f: Any) -> bool:
        return offered(f, plan)
    return include


def _narrowed(params: list[click.Option], entry: ModelEntry) -> list[click.Option]:
    """The training options with choices offering only the values this model accepts; an
    option left with one value (nothing to choose) is dropped."""
    accepted = entry.train_choices()
    out = []
    for param in params:
        values = accepted.get(param.name or "")
        if values is None:
            out.append(param)
        elif len(values) > 1:
            param.type = click.Choice(list(values))
            if param.name == "elbo":     # the help lists only the estimators it accepts
                param.help = ("ELBO estimator: " + "; ".join(
                    f"{value} ({ELBO_DESCRIPTIONS[value].split(':')[0]})" for value in values)
                    + "; default: the model's own")
            out.append(param)
    return out


def make_train_command(name: str) -> click.Command:
    """The `train NAME` command, its options generated from the model's config classes."""
    entry = CATALOG[name]
    config_class = entry.config_class()

    def callback(**values: Any) -> None:
        out = values.pop("out") or _default_out(name)
        resume = values.pop("resume")
        tensorboard = values.pop("tensorboard")
        progress = values.pop("progress")
        config_file = values.pop("config")
        print_config = values.pop("print_config")
        given = _given_on_command_line(values)
        from_file: dict[str, Any] = {}
        if config_file is not None:
            experiment = read_experiment(config_file, name)
            from_file = {**experiment.train, **experiment.model_options}
        recipe_name = given.get("recipe") or from_file.get("recipe")
        if recipe_name is not None:
            # defaults < the recipe < the experiment file < the options typed
            values.update(get_recipe(name, recipe_name).options())
            values["recipe"] = recipe_name
        values.update(from_file)
        values.update(given)
        train_values = pick(TrainConfig, values)
        model_options = pick(config_class, values)
        if print_config:
            click.echo(experiment_toml(name, train_values, model_options), nl=False)
            return
        if progress is None:
            progress = True if sys.stderr.isatty() else "lines"   # piped: a line per epoch
        if not resume:
            # Values out of bounds are refused here, before torch loads (the library checks
            # them again with the same words).
            validate(TrainConfig(**train_values))
            validate(config_class(**model_options))

        from pyro_vaes import api
        from pyro_vaes.training.distributed import DistributedContext

        if resume:
            requested = {**from_file, **given}
            epochs = requested.pop("epochs", None)
            run = api.resume_run(out, name, epochs=epochs, options=requested,
                                 tensorboard=tensorboard, progress=progress)
        else:
            run = api.train(name, out, model_options=model_options,
                            train_config=TrainConfig(**train_values),
                            tensorboard=bool(tensorboard), progress=progress)
        if not DistributedContext.from_environment().is_main:
            return
        last = run.history[-1]
        accuracy = (f", validation accuracy {last['val_accuracy']:.4f}"
                    if "val_accuracy" in last else "")
        epochs = f"{last['epoch']} epoch{'s' if last['epoch'] != 1 else ''}"
        click.echo(f"trained {name} for {epochs}: train loss {last['train_loss']:.3f}, "
                   f"validation ELBO {last['val_elbo']:.3f} nats {_data_point(run)}"
                   f"{accuracy}; {run.best_epoch_summary}; run directory {run.directory.root}")

    params: list[click.Parameter] = [
        click.Option(["--config", "config"], type=click.Path(dir_okay=False, path_type=Path),
                     default=None,
                     help="experiment file (TOML: model, [train], [model_options]) whose "
                          "options replace the defaults; options given here replace the "
                          "file's (start from --print-config)"),
        click.Option(["--print-config"], is_flag=True, default=False,
                     help="write the resolved options (defaults, --config file, the options "
                          "given) as a complete experiment file to stdout and exit without "
                          "training"),
        click.Option(["--out"], type=click.Path(file_okay=False, path_type=Path), default=None,
                     help="run directory to write  [default: runs/MODEL-DATE-TIME]"),
        click.Option(["--resume"], is_flag=True, default=False,
                     help="continue the run in --out from its last checkpoint with its saved "
                          "options (--epochs: the total to reach; --lr, --clip-norm, "
                          "--lr-schedule, --lr-decay, --device and --checkpoint-every may "
                          "change, recorded in config.json; any other option given must equal "
                          "the run's)"),
        click.Option(["--tensorboard/--no-tensorboard"], default=None,
                     help="also write TensorBoard event files into RUN/tensorboard: losses, "
                          "reconstructions and samples every epoch, traversals at the end, "
                          "the options and final measures as hparams  [default: off; with "
                          "--resume: as the run was started]"),
        click.Option(["--progress/--no-progress"], default=None,
                     help="show progress bars  [default: bars when stderr is a terminal, "
                          "otherwise one plain line per epoch; --no-progress: neither]"),
    ]
    params += _narrowed(field_options(TrainConfig, include=_train_fields_for(entry.plan)),
                        entry)
    params += field_options(config_class)
    return click.Command(name, callback=callback, params=params,
                         help=f"Train {entry.description}.",
                         short_help=entry.description)


@click.group("train")
def train_group() -> None:
    """Train a model with SVI and write a run directory."""


for _name in CATALOG:
    train_group.add_command(make_train_command(_name))

