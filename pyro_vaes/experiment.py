"""Experiments as files: a TOML file holding the arguments of :func:`pyro_vaes.api.train`.

::

    model = "vae"              # the model the file trains

    [train]                    # fields of TrainConfig (those that apply to the model)
    epochs = 20
    lr = 0.002

    [model_options]            # fields of the model's config dataclass
    latent_dim = 8

Every key may be left out (the default applies); a key that is not an option of the
model, a ``model`` naming another model, a value of the wrong type or a malformed file
is refused with one line naming the key and the fix. The keys are found by iterating
the fields of the config dataclasses, so a file takes exactly the options that
``pyro-vaes train MODEL --help`` lists. This module imports neither torch nor Pyro.
"""

from __future__ import annotations

import dataclasses
import json
import math
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser, from PyPI
    import tomli as tomllib  # type: ignore[no-redef]

from pyro_vaes.config import TrainConfig
from pyro_vaes.errors import ConfigError
from pyro_vaes.models.catalog import model_entry

TABLES = ("train", "model_options")


def offered(f: dataclasses.Field, plan: str | None = None) -> bool:
    """Whether a config field is an option of the command line (and of an experiment
    file) for a model batched by ``plan``."""
    if not f.metadata.get("cli", True):
        return False
    plans = f.metadata.get("plans")
    return plans is None or plan is None or plan in plans


def option_fields(cls: type, plan: str | None = None) -> list[dataclasses.Field]:
    """The fields of a config dataclass that a user may set."""
    return [f for f in dataclasses.fields(cls) if offered(f, plan)]


@dataclass
class Experiment:
    """What an experiment file sets: the model and, per table, the keys it gives."""

    model: str
    train: dict[str, Any] = field(default_factory=dict)
    model_options: dict[str, Any] = field(default_factory=dict)


def _table_classes(model: str) -> dict[str, tuple[type, str | None]]:
    entry = model_entry(model)
    return {"train": (TrainConfig, entry.plan), "model_options": (entry.config_class(), None)}


def _kind(f: dataclasses.Field) -> str:
    annotation = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", "")
    return annotation.replace(" | None", "").strip()


def _example(f: dataclasses.Field) -> str:
    value = f.default
    if value is None:
        choices = f.metadata.get("choices")
        value = {"int": f.metadata.get("min", 1), "float": 1.0, "bool": False,
                 "str": choices[0] if choices else "..."}.get(_kind(f), "...")
    return f"{f.name} = {toml_value(value)}"


def _checked(where: str, table: str, f: dataclasses.Field, value: Any) -> Any:
    """The value converted to the field's type, or a ConfigError naming the key."""
    kind = _kind(f)
    wrong = {
        "int": isinstance(value, bool) or not isinstance(value, int),
        "float": isinstance(value, bool) or not isinstance(value, (int, float)),
        "str": not isinstance(value, str),
        "bool": not isinstance(value, bool),
    }.get(kind, False)
    if wrong:
        expected = {"int": "a whole number", "float": "a number", "str": "a string",
                    "bool": "true or false"}[kind]
        raise ConfigError(f"{where}: [{table}] {f.name} must be {expected}, got "
                          f"{toml_value(value)}; write e.g. {_example(f)}")
    if kind == "float":
        value = float(value)
        if not math.isfinite(value):
            raise ConfigError(f"{where}: [{table}] {f.name} must be a finite number, got "
                              f"{value}; write e.g. {_example(f)}")
    return value


def read_experiment(path: str | Path, model: str) -> Experiment:
    """Read and check an experiment file for ``model``; raises ConfigError (one line)."""
    where = str(path)
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        raise ConfigError(f"{where}: no such file; give an experiment file, e.g. one written "
                          f"by `pyro-vaes train {model} --print-config > exp.toml`") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{where}: cannot be read ({type(error).__name__}); give a readable "
                          f"TOML file") from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{where} is not valid TOML ({error}); fix that line, or start from "
                          f"`pyro-vaes train {model} --print-config`") from None
    named = document.get("model")
    if named is None:
        raise ConfigError(f'{where} names no model; add model = "{model}" at the top')
    if named != model:
        raise ConfigError(f"{where} is an experiment of model {toml_value(named)}, not "
                          f"'{model}'; run `pyro-vaes train {named} --config {where}` or set "
                          f'model = "{model}"')
    for key, value in document.items():
        if key == "model":
            continue
        if key not in TABLES:
            raise ConfigError(f"{where}: unknown top-level key '{key}'; a file holds model, "
                              f"[train] and [model_options] (see `pyro-vaes train {model} "
                              f"--print-config`)")
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: '{key}' must be a table; write [{key}] on its own "
                              f"line and its keys below it")
    experiment = Experiment(model)
    for table, (cls, plan) in _table_classes(model).items():
        fields = {f.name: f for f in option_fields(cls, plan)}
        for key, value in document.get(table, {}).items():
            if key not in fields:
                other = "model_options" if table == "train" else "train"
                other_cls, other_plan = _table_classes(model)[other]
                hint = (f"it belongs in [{other}]"
                        if key in {f.name for f in option_fields(other_cls, other_plan)}
                        else f"see `pyro-vaes train {model} --print-config` for the keys")
                raise ConfigError(f"{where}: model '{model}' takes no option '{key}' in "
                                  f"[{table}]; remove it ({hint})")
            getattr(experiment, table)[key] = _checked(where, table, fields[key], value)
    return experiment


def toml_value(value: Any) -> str:
    """A Python value as a TOML value (strings, numbers, booleans, lists of them)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value)
        return text if any(c in text for c in ".en") else text + ".0"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(str(value))


def _comment(text: str) -> list[str]:
    return ["# " + line for line in textwrap.wrap(text, 96)]


def _table_lines(fields: Iterable[dataclasses.Field], values: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    for f in fields:
        if lines:
            lines.append("")
        value = values.get(f.name, f.default)
        choices = f.metadata.get("choices")
        help_text = f.metadata.get("help", "")
        if choices:
            help_text += f" (one of: {', '.join(choices)})"
        if value is None:
            lines += _comment(help_text + " [not set]")
            lines.append(f"# {_example(f)}")
        else:
            lines += _comment(help_text)
            lines.append(f"{f.name} = {toml_value(value)}")
    return lines


def experiment_toml(model: str, train: dict[str, Any], model_options: dict[str, Any]) -> str:
    """A complete experiment file for ``model``: every option with its help text, set to the
    given values (or the defaults); keys the model does not take are left out."""
    classes = _table_classes(model)
    lines = [f"# Experiment file: `pyro-vaes train {model} --config FILE` trains it; options "
             f"given on the command line override it.",
             f"model = {toml_value(model)}"]
    for table, values in (("train", train), ("model_options", model_options)):
        cls, plan = classes[table]
        lines += ["", "", f"[{table}]", *_table_lines(option_fields(cls, plan), values)]
    return "\n".join(lines) + "\n"
