"""Configuration dataclasses shared by every model and by the training engine.

Each field carries its help text (and, where it applies, its bounds or
choices) in ``metadata`` so that the command line can be generated from the
dataclass, with every default documented in one place.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from pyro_vaes.choices import (
    DEFAULT_CHANNELS,
    LIKELIHOOD_NAMES,
    NETS,
)
from pyro_vaes.errors import ConfigError


def option(default: Any, help: str, **meta: Any) -> Any:
    """A dataclass field with its command-line help and validation metadata.

    ``meta`` may hold ``min`` (inclusive lower bound), ``max`` (inclusive upper
    bound; integers without one are capped at :data:`INT_LIMIT`), ``open_min``
    (exclusive lower bound), ``choices`` (allowed values), ``applies`` (the
    option only has an effect when another field has one of some values, e.g.
    ``{"lr_schedule": ("exponential",)}``; a value away from the default is
    refused otherwise), ``cli: False`` (not exposed as an option) and
    ``aliases`` (older spellings the command line still accepts).
    """
    return field(default=default, metadata={"help": help, **meta})


def option_name(field_name: str) -> str:
    """The command-line spelling of a field: ``latent_dim`` -> ``--latent-dim``."""
    return "--" + field_name.replace("_", "-")


INT_LIMIT = 1_000_000
"""Largest value of an integer option that declares no ``max`` of its own: no size or count
of this library needs more, and larger values only reach the allocator."""


def _kind(f: dataclasses.Field) -> str:
    """"int", "float", "str", "bool" (the annotation without ``| None``) or ""."""
    annotation = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", "")
    return annotation.replace(" | None", "").strip()


def _check_number(f: dataclasses.Field, kind: str, value: Any) -> None:
    name = option_name(f.name)
    if kind == "int" and (isinstance(value, bool) or not isinstance(value, int)):
        raise ConfigError(f"{name} must be a whole number, got {value!r}")
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{name} must be a number, got {value!r}")
        if not math.isfinite(value):
            example = f" (the default is {f.default})" if f.default is not None else ""
            raise ConfigError(f"{name} must be a finite number, got {value}; give a finite "
                              f"value{example}")


def validate(config: Any) -> None:
    """Check every field of a config dataclass: type, finiteness, bounds, choices and
    whether it applies."""
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if value is None:
            continue
        meta = f.metadata
        name = option_name(f.name)
        choices = meta.get("choices")
        if choices is not None and value not in choices:
            raise ConfigError(f"{name} {value!r} is not valid; choose one of: {', '.join(choices)}")
        kind = _kind(f)
        if kind in ("int", "float"):
            _check_number(f, kind, value)
        if "min" in meta and value < meta["min"]:
            raise ConfigError(f"{name} must be at least {meta['min']}, got {value}")
        if "open_min" in meta and value <= meta["open_min"]:
            raise ConfigError(f"{name} must be greater than {meta['open_min']}, got {value}")
        upper = meta.get("max", INT_LIMIT if kind == "int" else None)
        if upper is not None and value > upper:
            raise ConfigError(f"{name} must be at most {upper}, got {value}")
    for f in dataclasses.fields(config):
        applies = f.metadata.get("applies")
        if not applies or getattr(config, f.name) == f.default:
            continue
        for other, values in applies.items():
            if getattr(config, other) not in values:
                raise ConfigError(
                    f"{option_name(f.name)} only applies with {option_name(other)} "
                    f"{' or '.join(values)} (got {getattr(config, other)}); drop "
                    f"{option_name(f.name)} or set {option_name(other)} {values[0]}")


def from_dict(cls: type, values: dict[str, Any]) -> Any:
    """Build a config dataclass from a dict, ignoring keys it does not have."""
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in values.items() if k in names})


ELBOS = ("trace", "meanfield", "enum")
AUTOCAST = ("bf16",)
LR_SCHEDULES = ("constant", "cosine", "exponential", "plateau")
LOSS_REDUCTIONS = ("mean", "sum")
EARLY_STOP_MEASURES = ("val_elbo", "val_accuracy")


@dataclass
class TrainConfig:
    """How to train: data, optimisation, ELBO, reproducibility."""

    recipe: str | None = option(None, "a model's published way of training it, as one named set "
                                      "of these options (elbo: the clean-ELBO story, the "
                                      "defaults; authors: the authors' code; see `pyro-vaes "
                                      "list` and docs/models/); options given override it")
    data: str = option("digits", "data set name (see `pyro-vaes list`)")
    data_root: str | None = option(None, "directory holding the data set's files "
                                         "(Fashion-MNIST is found on its own when installed)")
    max_train: int | None = option(None, "keep at most this many training images "
                                         "(seeded, stratified)", min=1, max=10**9)
    image_size: int | None = option(None, "resize side for CelebA and image folders", min=8,
                                    max=1024)
    labels: int | None = option(None, "semi-supervised models: number of labelled training "
                                      "images (default all)", min=1, max=10**9,
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
                             open_min=0.0, max=1.0, applies={"lr_schedule": ("exponential",)})
    plateau_factor: float = option(0.5, "--lr-schedule plateau: factor of each reduction",
                                   open_min=0.0, max=1.0, applies={"lr_schedule": ("plateau",)})
    plateau_patience: int = option(2, "--lr-schedule plateau: epochs without a relative "
                                      "improvement of the training loss by --plateau-threshold "
                                      "before the rate is reduced", min=0,
                                   applies={"lr_schedule": ("plateau",)})
    plateau_threshold: float = option(0.01, "--lr-schedule plateau: relative improvement of the "
                                            "epoch's training loss that counts", min=0.0,
                                      applies={"lr_schedule": ("plateau",)})
    plateau_cooldown: int = option(4, "--lr-schedule plateau: epochs to wait after a reduction "
                                      "before watching again", min=0,
                                   applies={"lr_schedule": ("plateau",)})
    loss_reduction: str = option("mean", "a batch's loss: mean (per data point) or sum over its "
                                         "data points (Pyro's SVI default, the CCVAE authors' "
                                         "code); Adam's steps barely change, but batches of "
                                         "different sizes are weighted by their size",
                                 choices=LOSS_REDUCTIONS)
    labels_in_main_loss: bool = option(True, "semi-supervised models: labelled images get their "
                                             "own labelled batches in the main objective (the "
                                             "papers' L(x, y)); off: every training image enters "
                                             "it unlabelled and labels are used only by "
                                             "--supervised-steps", plans=("semi-supervised",))
    supervised_steps: int = option(0, "semi-supervised models that offer it (parted): after "
                                      "every training step, this many cross-entropy steps on "
                                      "--supervised-batch-size random labelled images, with "
                                      "their own Adam, on the classifier's parameters",
                                   min=0, max=100, plans=("semi-supervised",))
    supervised_batch_size: int = option(64, "labelled images per --supervised-steps step",
                                        min=1, plans=("semi-supervised",))
    supervised_lr: float = option(5e-4, "Adam learning rate of the --supervised-steps "
                                        "optimiser", open_min=0.0, plans=("semi-supervised",))
    elbo: str | None = option(None, "ELBO estimator: trace (Trace_ELBO), meanfield "
                                    "(analytic KL where known), enum (TraceEnum_ELBO); "
                                    "default: the model's own", choices=ELBOS)
    num_particles: int = option(1, "samples per datum in the ELBO estimate", min=1,
                                max=10_000)
    jit: bool = option(False, "compile the training loss with Pyro's JIT (JitTrace_ELBO, "
                              "JitTraceEnum_ELBO, JitTraceMeanField_ELBO); same losses, "
                              "faster steps for some models (docs/benchmarks.md)")
    autocast: str | None = option(None, "run the encoder and decoder in this precision under "
                                        "torch.autocast (bf16: for GPUs; slower on most CPUs)",
                                  choices=AUTOCAST)
    seed: int = option(0, "random seed (same seed, same numbers on CPU)", min=0,
                       max=2**32 - 1)
    device: str = option("cpu", "torch device, e.g. cpu or cuda:0")
    threads: int | str = option("auto", "CPU threads of torch's operations: a number, or auto "
                                        "(OMP_NUM_THREADS when set, else one thread unless at "
                                        "least 3 cores are idle by the 1-minute load; "
                                        "docs/benchmarks.md, \"Threads\"); config.json records "
                                        "the number used (threads_used)", words=("auto",))
    checkpoint_every: int | None = option(None, "also write the checkpoint every N training "
                                                "steps, so that a kill loses at most N steps "
                                                "(default: after every epoch only)", min=1)



@dataclass
class ModelConfig:
    """Options every model takes: latent size, likelihood, the nets and their widths.

    A model's own config class adds the options only it takes (the VAE's prior and guide
    families, M2's auxiliary weight, ...), so ``pyro-vaes train MODEL --help`` lists exactly
    the options that change that model.
    """

    latent_dim: int = option(10, "dimension of the latent z", min=1)
    likelihood: str = option("bernoulli", "likelihood p(x | z)", choices=LIKELIHOOD_NAMES)
    net: str | None = option(None, "encoder and decoder: mlp (fully connected) or conv "
                                   "(convolutional); default: conv where the image side is "
                                   "even, at least 8 and square, else mlp", choices=NETS)
    hidden_dim: int = option(256, "width of the encoder features and decoder hidden layer "
                                  "(MLP layers; the conv nets' linear layer)", min=1)
    channels: int = option(DEFAULT_CHANNELS, "--net conv: channels of the first convolution "
                                             "(doubled for the second half of the layers)",
                           min=1)


AUX_WEIGHT_SCALES = ("constant", "data")
AUX_WEIGHT_SCALE_HELP = ("how --aux-weight is scaled: constant (alpha per labelled image as "
                         "given) or data (alpha x N / N_labelled per labelled image, Kingma et "
                         "al.'s alpha = 0.1 N with --aux-weight 0.1: the term grows with the "
                         "ratio of all to labelled images)")


def scaled_aux_weight(weight: float, scale: str, num_train: int, num_labelled: int) -> float:
    """alpha per labelled image: ``weight`` (scale constant) or weight * N / N_labelled
    (scale data)."""
    if scale == "data":
        return weight * num_train / max(num_labelled, 1)
    return weight


RESUMABLE_OPTIONS = ("epochs", "lr", "clip_norm", "lr_schedule", "lr_decay", "device",
                     "checkpoint_every", "threads")
"""Training options a resumed run may change; every change of one that alters the numbers
(lr, clip_norm, the schedule) is recorded in config.json with the epoch it took effect.
Any other changed option is refused."""
