"""The run's own record for a report: options and recipe, data and split sizes, the logged
training curves (every numeric key of RUN/metrics.jsonl) and the evaluation figures (the
run's evaluation JSON when there is one, computed when not)."""

from __future__ import annotations

import dataclasses
import json
import math
import tempfile
from pathlib import Path
from typing import Any

import torch

from pyro_vaes.config import TrainConfig, option_name
from pyro_vaes.report.content import Evaluation, Series, Table

EVALUATION_SAMPLES = 10
"""Importance samples K of the evaluation a report computes when the run has none."""


def _shown(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_shown(v) for v in value) or "(none)"
    if value is None:
        return "none"
    return str(value)


def options_table(title: str, values: dict[str, Any], defaults: dict[str, Any]) -> Table:
    """One row per option (as the command line spells it), marked where it differs from the
    default."""
    names = sorted(values)
    return Table(title, ["option", "value", "default"],
                 [[option_name(n), _shown(values[n]), _shown(defaults.get(n))] for n in names],
                 [values[n] != defaults.get(n) for n in names])


def recipe_row(model_name: str, train: dict[str, Any]) -> list[str]:
    """The recipe the run was trained by, with its summary where the library describes it."""
    name = train.get("recipe")
    if name is None:
        return ["recipe", "none given: the options below as listed"]
    try:                          # recipes are described by pyro_vaes.recipes where it exists
        from pyro_vaes.recipes import recipes_of
    except ModuleNotFoundError:
        return ["recipe", str(name)]
    recipe = recipes_of(model_name).get(name)
    return ["recipe", f"{name}: {recipe.summary}" if recipe else str(name)]


def labelled_count(run: Any) -> str:
    """How many training images were labelled, as the training options say."""
    train = run.train_config
    n = len(run.splits.train)
    if run.model.plan != "semi-supervised":
        return "not used by this model's training plan"
    if train.labels is not None:
        return f"{train.labels} of {n}"
    if train.labelled_fraction is not None:
        return f"{max(1, round(train.labelled_fraction * n))} of {n} ({train.labelled_fraction:g})"
    return f"all {n}"


def overview_tables(run: Any, which: str, epoch: int) -> list[Table]:
    """The run, its data, its training options and its model options."""
    splits = run.splits
    config = run.config_dict()
    shape = "x".join(str(s) for s in splits.image_shape)
    classes = splits.class_names or splits.attribute_names
    about = Table("Run", ["", ""], [
        ["directory", str(run.directory.root)],
        ["model", f"{run.model_name}: {run.model.description}"],
        ["checkpoint", f"{which} ({'checkpoint.pt' if which == 'last' else 'best.pt'}), "
                       f"epoch {epoch}"],
        recipe_row(run.model_name, config["train"]),
        ["parameters", f"{sum(p.numel() for p in run.model.parameters()):,}"],
        ["changes on resume", _shown([f"epoch {c.get('epoch')}: {c.get('changed')}"
                                      for c in config.get("changes", [])])],
    ])
    data = Table("Data", ["", ""], [
        ["data set", run.train_config.data],
        ["image shape", shape],
        ["train / validation / test", f"{len(splits.train)} / {len(splits.val)} / "
                                      f"{len(splits.test)}"],
        ["labelled training images", labelled_count(run)],
        ["classes" if splits.class_names else "attributes", _shown(classes)],
    ])
    defaults_model = dataclasses.asdict(type(run.model.config)())
    return [about, data,
            options_table("Training options", config["train"],
                          dataclasses.asdict(TrainConfig())),
            options_table("Model options", config["model_config"], defaults_model)]


def read_metrics(path: Path) -> list[dict[str, Any]]:
    """The records of RUN/metrics.jsonl (an empty list when there is none); lines that are not
    JSON objects are skipped."""
    if not path.is_file():
        return []
    records = []
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records


def curves(records: list[dict[str, Any]]) -> list[Series]:
    """One series per numeric key of the records (``epoch`` is the axis), in first-seen order;
    non-finite values are left out."""
    names: list[str] = []
    for record in records:
        names += [k for k, v in record.items() if k != "epoch" and k not in names
                  and isinstance(v, (int, float)) and not isinstance(v, bool)]
    out = []
    for name in names:
        points = [(int(r.get("epoch", i + 1)), float(r[name])) for i, r in enumerate(records)
                  if isinstance(r.get(name), (int, float)) and not isinstance(r[name], bool)
                  and math.isfinite(r[name])]
        if points:
            out.append(Series(name, [p[0] for p in points], [p[1] for p in points]))
    return out


def evaluation_path(run: Any, which: str, split: str = "test") -> Path:
    """Where `pyro-vaes evaluate` writes the figures of a checkpoint."""
    suffix = "" if which == "last" else f"-{which}"
    return run.directory.root / f"evaluation-{split}{suffix}.json"


def _computed_evaluation(run: Any, limit: int, seed: int, note: str) -> Evaluation:
    from pyro_vaes import api

    model = run.model
    test = run.splits.test
    subset = test.subset(torch.arange(min(limit, len(test))))
    limited = dataclasses.replace(run, _splits=dataclasses.replace(run.splits, test=subset))
    groups = ["likelihood", *(g for g in ("accuracy",) if g in model.measure_groups)]
    with tempfile.TemporaryDirectory() as cache:   # nothing is written into the run
        values = api.evaluate(limited, num_samples=EVALUATION_SAMPLES, seed=seed,
                              measures=groups, judge_cache=cache)
    source = (f"{note}computed by this report on the first {len(subset)} test images with "
              f"K = {EVALUATION_SAMPLES} importance samples (groups: {', '.join(groups)}); "
              f"`pyro-vaes evaluate RUN` computes every measure on the whole split")
    return Evaluation(values, source, computed=True)


def evaluation(run: Any, which: str, epoch: int, limit: int, seed: int) -> Evaluation:
    """The run's evaluation JSON for this checkpoint when there is one, otherwise the
    likelihood (and accuracy) computed on ``limit`` test images."""
    path = evaluation_path(run, which)
    if not path.is_file():
        return _computed_evaluation(run, limit, seed, f"no {path.name} in the run: ")
    try:
        values = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        return _computed_evaluation(run, limit, seed,
                                    f"{path.name} is not readable JSON ({error}): ")
    if not isinstance(values, dict):
        return _computed_evaluation(run, limit, seed, f"{path.name} holds no figures: ")
    at = values.get("epoch")
    stale = (f"; it was computed at epoch {at}, the checkpoint is at epoch {epoch}"
             if at is not None and at != epoch else "")
    return Evaluation(values, f"from {path} (written by `pyro-vaes evaluate`){stale}",
                      computed=False)
