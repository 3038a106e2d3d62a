"""Click options generated from the library's config dataclasses.

Each dataclass field becomes ``--field-name`` with its type, default, help
text and (for string fields with choices) a ``click.Choice``; the bounds in
the field's metadata are checked by ``pyro_vaes.config.validate`` so that the
library and the command line refuse the same values with the same words.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable
from typing import Any

import click

from pyro_vaes.config import option_name

_TYPES: dict[str, Any] = {"int": int, "float": float, "str": str, "bool": bool}


def _click_type(annotation: str, choices: Iterable[str] | None) -> Any:
    base = annotation.replace(" | None", "").strip()
    if choices is not None:
        return click.Choice(list(choices))
    return _TYPES.get(base, str)


def field_options(cls: type, *, skip: Iterable[str] = (),
                  include: Callable[[dataclasses.Field], bool] | None = None
                  ) -> list[click.Option]:
    """click options for the fields of a config dataclass."""
    out = []
    for f in dataclasses.fields(cls):
        if f.name in skip or not f.metadata.get("cli", True):
            continue
        if include is not None and not include(f):
            continue
        annotation = str(f.type)
        default = f.default
        help_text = f.metadata.get("help", "")
        if annotation == "bool":
            decl = option_name(f.name)
            out.append(click.Option([f"{decl}/--no-{decl[2:]}"], default=default,
                                    show_default=True, help=help_text))
            continue
        kind = (CountOrWord(tuple(f.metadata["words"])) if "words" in f.metadata
                else _click_type(annotation, f.metadata.get("choices")))
        decls = [option_name(f.name), *f.metadata.get("aliases", ()), f.name]
        out.append(click.Option(decls, type=kind, default=default,
                                show_default="none" if default is None else True,
                                help=help_text))
    return out


def pick(cls: type, values: dict[str, Any]) -> dict[str, Any]:
    """The entries of ``values`` that are fields of ``cls``."""
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in values.items() if k in names}


class FiniteFloat(click.FloatRange):
    """A float in a range, refusing NaN and infinities (which compare False with any
    bound, so click.FloatRange lets them through)."""

    name = "finite float"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        number = click.FLOAT.convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return super().convert(number, param, ctx)


class RunDirectoryPath(click.ParamType):
    """The RUN argument of the commands that read a run: a directory holding
    checkpoint.pt, refused (``Error: ...``, exit 2) before any torch import."""

    name = "run"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        from pathlib import Path

        from pyro_vaes.runpaths import check_run_directory

        return check_run_directory(Path(value))


class CountOrWord(click.ParamType):
    """A positive integer or one of a few words (``--iw-images 500``, ``auto``, ``all``)."""

    name = "count"

    def __init__(self, words: tuple[str, ...]) -> None:
        self.words = words

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "[N|" + "|".join(self.words) + "]"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        if isinstance(value, int) or value in self.words:
            return value
        try:
            number = int(value)
        except (TypeError, ValueError):
            number = 0
        if number < 1:
            self.fail(f"{value!r} is neither a positive integer nor one of: "
                      f"{', '.join(self.words)}.", param, ctx)
        return number
