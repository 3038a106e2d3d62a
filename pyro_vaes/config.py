"""Configuration dataclasses shared by every model and by the training engine.

Each field carries its help text (and, where it applies, its bounds or
choices) in ``metadata`` so that the command line can be generated from the
dataclass, with every default documented in one place.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from pyro_vaes.errors import ConfigError


def option(default: Any, help: str, **meta: Any) -> Any:
    """A dataclass field with its command-line help and validation metadata.

    ``meta`` may hold ``min`` (inclusive lower bound), ``max``, ``open_min``
    (exclusive lower bound), ``choices`` (allowed values), ``cli: False``
    (not exposed as an option) and ``aliases`` (older spellings the command
    line still accepts).
    """
    return field(default=default, metadata={"help": help, **meta})


def option_name(field_name: str) -> str:
    """The command-line spelling of a field: ``latent_dim`` -> ``--latent-dim``."""
    return "--" + field_name.replace("_", "-")


def validate(config: Any) -> None:
    """Check every field of a config dataclass against its bounds and choices."""
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if value is None:
            continue
        meta = f.metadata
        name = option_name(f.name)
        choices = meta.get("choices")
        if choices is not None and value not in choices:
            raise ConfigError(f"{name} {value!r} is not valid; choose one of: {', '.join(choices)}")
        if "min" in meta and value < meta["min"]:
            raise ConfigError(f"{name} must be at least {meta['min']}, got {value}")
        if "open_min" in meta and value <= meta["open_min"]:
            raise ConfigError(f"{name} must be greater than {meta['open_min']}, got {value}")
        if "max" in meta and value > meta["max"]:
            raise ConfigError(f"{name} must be at most {meta['max']}, got {value}")


def from_dict(cls: type, values: dict[str, Any]) -> Any:
    """Build a config dataclass from a dict, ignoring keys it does not have."""
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in values.items() if k in names})


ELBOS = ("trace", "meanfield", "enum")
LR_SCHEDULES = ("constant", "cosine", "exponential")
EARLY_STOP_MEASURES = ("val_elbo", "val_accuracy")


@dataclass
class TrainConfig:
    """How to train: data, optimisation, ELBO, reproducibility."""

    data: str = option("digits", "data set name (see `pyro-vaes list`)")
    data_root: str | None = option(None, "directory holding the data set's files "
                                         "(Fashion-MNIST is found on its own when installed)")
    max_train: int | None = option(None, "keep at most this many training images "
                                         "(seeded, stratified)", min=1)
    image_size: int | None = option(None, "resize side for CelebA and image folders", min=8)
    labels: int | None = option(None, "semi-supervised models: number of labelled training "
                                      "images (default all)", min=1,
                                plans=("semi-supervised",))
    labelled_fraction: float | None = option(None, "semi-supervised models: fraction of "
                                                   "training images labelled, in (0, 1]",
                                             open_min=0.0, max=1.0, plans=("semi-supervised",))
    labelled_repeats: int = option(1, "semi-supervised models: times each labelled image is used "
                                      "per epoch, its batches spread evenly among the unlabelled "
                                      "ones; 1 is the papers' objective (every image counted "
                                      "once), N > 1 weights the labelled term N times", min=1,
                                   plans=("semi-supervised",))
    labelled_batch_every: int | None = option(None, "semi-supervised models: oversample instead: "
                                                    "one labelled batch after every N unlabelled "
                                                    "batches, cycling through the labelled set "
                                                    "(the schedule of earlier versions, N = 1)",
                                              min=1, plans=("semi-supervised",),
                                              aliases=("--supervised-every",))
    epochs: int = option(50, "number of passes over the training set (the most, with "
                             "--patience)", min=1)
    patience: int | None = option(None, "stop after this many epochs in a row without a new best "
                                        "--early-stop-on (default: train all --epochs); the best "
                                        "epoch's weights are kept in RUN/best.pt either way",
                                  min=1)
    early_stop_on: str | None = option(None, "validation measure that --patience and RUN/best.pt "
                                             "follow: val_elbo or val_accuracy; default: "
                                             "val_accuracy for models that predict labels (m2, "
                                             "ccvae, parted), val_elbo otherwise",
                                       choices=EARLY_STOP_MEASURES)
    batch_size: int = option(64, "images per batch", min=1)
    lr: float = option(2e-3, "Adam learning rate", open_min=0.0)
    clip_norm: float | None = option(None, "clip the gradient norm to this value",
                                     open_min=0.0)
    lr_schedule: str = option("constant", "learning-rate schedule over epochs",
                              choices=LR_SCHEDULES)
    lr_decay: float = option(0.97, "per-epoch factor of the exponential schedule",
                             open_min=0.0, max=1.0)
    elbo: str | None = option(None, "ELBO estimator: trace (Trace_ELBO), meanfield "
                                    "(analytic KL where known), enum (TraceEnum_ELBO); "
                                    "default: the model's own", choices=ELBOS)
    num_particles: int = option(1, "samples per datum in the ELBO estimate", min=1)
    seed: int = option(0, "random seed (same seed, same numbers on CPU)", min=0)
    device: str = option("cpu", "torch device, e.g. cpu or cuda:0")
