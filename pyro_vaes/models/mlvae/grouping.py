"""What the grouping options mean for a data set: valid keys, level names, held-out levels.

Checked against :class:`DataInfo` when the model is built, so that a bad
``--group-by`` or ``--holdout-classes`` is refused before any training.
"""

from __future__ import annotations

from pyro_vaes.data.info import DataInfo
from pyro_vaes.errors import ConfigError
from pyro_vaes.labels import label_index


def group_keys(info: DataInfo) -> list[str]:
    """The labels a data set can be grouped by: class, its factors, its attributes."""
    keys = ["class"] if info.num_classes else []
    return keys + list(info.factor_names or []) + list(info.attribute_names or [])


def level_names(by: str, info: DataInfo) -> list[str]:
    """A name for every value of the grouping label ``by`` (index = value)."""
    if by == "class" and info.num_classes:
        return list(info.class_names or [str(k) for k in range(info.num_classes)])
    if info.factor_names and by in info.factor_names:
        size = (info.factor_sizes or [])[info.factor_names.index(by)]
        return [f"{by}={k}" for k in range(size)]
    if info.attribute_names and by in info.attribute_names:
        return [f"not {by}", by]
    keys = group_keys(info)
    choices = ", ".join(keys) if keys else "none, this data set has no labels"
    raise ConfigError(f"--group-by {by!r}: unknown key for this data set; choose one of: "
                      f"{choices}")


def parse_levels(text: str | None, by: str, info: DataInfo, option: str = "--holdout-classes"
                 ) -> tuple[int, ...]:
    """Values of ``by`` from a comma-separated list of indices or level names."""
    if not text:
        return ()
    names = level_names(by, info)
    levels = [label_index(names, token.strip(), option=option, digits=True,
                          what=f"a value of --group-by {by} (give indices 0-{len(names) - 1} "
                               f"or names)") for token in text.split(",")]
    if len(set(levels)) >= len(names):
        raise ConfigError(f"{option} {text!r} leaves no {by} to train on; hold out fewer")
    return tuple(sorted(set(levels)))
