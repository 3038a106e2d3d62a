"""What every model in the library shares.

A model is one ``nn.Module`` holding all of its parameters, with a Pyro
``model(...)`` and ``guide(...)`` method, and a config dataclass holding exactly
the options it takes. Its class attributes say which likelihoods and ELBOs it
accepts, how its data must be
batched (``plan``) and which plate indexes the data (``data_plate``).

What a model may add to the shared training and evaluation is declared on
:class:`LatentVariableModel` as typed hooks with defaults that do nothing; the
trainer, the plans and the API call them on every model (never ``getattr``):

========================  ===============================================================
``label_kind``            labels the plans attach: ``"targets"``, ``"attributes"`` or None
``predicts_labels``       True when :meth:`predict` is defined (logs ``val_accuracy``)
``measure_groups``        names of the groups :meth:`measures` computes (``--measures``)
``measures``              the model's own evaluation figures
``interventions``         the intervention kinds registered for the model (``intervene``)
``observe_labelled``      learn from the labelled subset before each epoch (CCVAE's p(y))
``on_epoch_start``        per-epoch schedules (the class-related model's attention slope)
``holdout_groups``        group labels left out of training (the grouped plan)
``ddp_unused_parameters`` DDP must look for parameters a step leaves unused
``check_jit``             refuse a configuration the compiled loss cannot run
``supervised_parameters`` parameters of separate supervised steps (``--supervised-steps``)
``supervised_loss``       their cross-entropy on a labelled batch
========================  ===============================================================
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

import torch
from torch import nn

from pyro_vaes.config import ELBOS, ModelConfig
from pyro_vaes.data.info import DataInfo
from pyro_vaes.errors import ConfigError
from pyro_vaes.inference.elbo import negative_elbo
from pyro_vaes.inference.importance import (
    chunked_log_importance_weights,
    elbo_and_log_likelihood,
    samples_per_pass,
)
from pyro_vaes.interventions import supported as registered_interventions
from pyro_vaes.likelihoods import LIKELIHOODS
from pyro_vaes.nets import (
    DEFAULT_CHANNELS,
    check_net,
    default_net,
    make_decoder,
    make_encoder,
)


@dataclass
class Batch:
    """One training or evaluation batch: images and, where known, their labels.

    ``x``: float images (B, C, H, W) in [0, 1] (ML-VAE: (G, n, C, H, W) with
    ``mask`` (G, n)); ``y``: int64 class indices (B,) or float attributes (B, L).
    """

    x: torch.Tensor
    y: torch.Tensor | None = None
    mask: torch.Tensor | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def size(self) -> int:
        """Number of data points the loss is averaged over (images, or groups)."""
        return int(self.x.shape[0])

    def to(self, device: torch.device | str) -> Batch:
        """The same batch on another device (copies from the host do not wait for the device;
        tensors already there are kept)."""
        move: Callable[[Any], Any] = (  # noqa: E731
            lambda t: t.to(device, non_blocking=True) if torch.is_tensor(t) else t)
        return Batch(move(self.x), move(self.y), move(self.mask),
                     {k: move(v) for k, v in self.extra.items()})


class LatentVariableModel(nn.Module):
    """Base class: a Pyro model/guide pair whose parameters all live in this module."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    config_class: ClassVar[type] = ModelConfig
    supported_likelihoods: ClassVar[tuple[str, ...]] = tuple(LIKELIHOODS)
    supported_elbos: ClassVar[tuple[str, ...]] = ELBOS
    default_elbo: ClassVar[str] = "trace"
    max_plate_nesting: ClassVar[int] = 1
    data_plate: ClassVar[str] = "data"
    plan: ClassVar[str] = "unsupervised"
    needs: ClassVar[tuple[str, ...]] = ()

    # -- hooks (see the module docstring); the defaults add nothing ------------------------
    label_kind: str | None = None
    """Labels the training plans attach to a batch: ``"targets"`` (class indices),
    ``"attributes"`` (binary attributes) or None (class targets where the data has them)."""
    predicts_labels: ClassVar[bool] = False
    """True for models that define :meth:`predict`: validation logs ``val_accuracy`` and early
    stopping follows it by default."""
    measure_groups: ClassVar[tuple[str, ...]] = ()
    """The groups of figures :meth:`measures` computes, as ``evaluate --measures`` names them."""
    ddp_unused_parameters: ClassVar[bool] = False
    """True when a step may leave some parameters without a gradient, so that
    DistributedDataParallel must look for them (``find_unused_parameters``)."""
    holdout_groups: tuple[int, ...] = ()
    """Values of the grouping label left out of training (models trained by the grouped plan)."""

    def __init__(self, config: Any, data_info: DataInfo) -> None:
        super().__init__()
        if config.net is None:  # record the net the default chose
            config = dataclasses.replace(config, net=default_net(data_info.image_shape))
        self.config = config
        self.data_info = data_info

    def build_encoder(self, feature_dim: int | None = None) -> nn.Module:
        """The encoder the config names: images (..., C, H, W) -> features (..., F)."""
        config = self.config
        return make_encoder(self.data_info.image_shape, feature_dim or config.hidden_dim,
                            net=config.net, channels=config.channels)

    def build_decoder(self, latent_dim: int) -> nn.Module:
        """The decoder the config names: latents (..., latent_dim) -> pixel parameters."""
        config = self.config
        return make_decoder(latent_dim, self.data_info.image_shape, config.hidden_dim,
                            net=config.net, channels=config.channels)

    @classmethod
    def check_compatible(cls, config: Any, elbo: str | None = None,
                         data_info: DataInfo | None = None) -> None:
        """Refuse a combination this model cannot run, listing the valid ones."""
        checks = [("likelihood", config.likelihood, cls.supported_likelihoods)]
        if elbo is not None:
            checks.append(("elbo", elbo, cls.supported_elbos))
        for kind, value, valid in checks:
            if value not in valid:
                raise ConfigError(f"model '{cls.name}' does not take {kind} '{value}'; "
                                  f"valid: {', '.join(valid)}")
        if data_info is not None:
            check_net(config.net, data_info.image_shape)
            net = config.net or default_net(data_info.image_shape)
            if net == "mlp" and config.channels != DEFAULT_CHANNELS:
                raise ConfigError("--channels only applies with --net conv (got mlp); drop "
                                  "--channels or set --net conv")
            for need in cls.needs:
                have = {"targets": data_info.num_classes,
                        "attributes": data_info.attribute_names}.get(need)
                if not have:
                    raise ConfigError(f"model '{cls.name}' needs {need} in its data set; "
                                      f"choose a labelled data set (see `pyro-vaes list`)")

    @classmethod
    def train_choices(cls) -> dict[str, tuple[str, ...]]:
        """The values of the training options with choices that this model accepts."""
        from pyro_vaes.recipes import recipes_of

        measures = ("val_elbo", "val_accuracy") if cls.predicts_labels else ("val_elbo",)
        return {"elbo": cls.supported_elbos, "early_stop_on": measures,
                "recipe": tuple(recipes_of(cls.name))}

    @classmethod
    def interventions(cls) -> list[str]:
        """Hook: the intervention kinds registered for this model
        (:func:`pyro_vaes.interventions.register`)."""
        return registered_interventions(cls.name)

    def check_jit(self) -> None:
        """Hook: raise :class:`ConfigError` if the compiled loss (``--jit``) cannot run this
        configuration."""

    def observe_labelled(self, y: torch.Tensor, num_train: int | None = None) -> None:
        """Hook: called by the semi-supervised plan at the start of every epoch with the labels
        of the whole labelled subset and the number of training images (e.g. the CCVAE sets
        p(y) to their frequencies; ``--aux-weight-scale data`` uses N / N_labelled)."""

    def on_epoch_start(self, epoch: int, epochs: int) -> None:
        """Hook: called by the trainer before every epoch (0-based ``epoch`` of ``epochs``),
        for schedules such as an annealed slope."""

    def supervised_parameters(self) -> list[nn.Parameter]:
        """Hook: the parameters that separate supervised steps update (``--supervised-steps``,
        :mod:`pyro_vaes.training.supervised`); empty when the model offers none."""
        return []

    def supervised_loss(self, batch: Batch) -> torch.Tensor:
        """Hook: mean cross-entropy of q(c | x) on a labelled batch, for those steps."""
        raise NotImplementedError(f"model '{self.name}' offers no separate supervised steps")

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """Hook: labels predicted for images x (only where ``predicts_labels``)."""
        raise NotImplementedError(f"model '{self.name}' predicts no labels")

    def measures(self, splits: Any, split: str, request: Any = None) -> dict[str, Any]:
        """Hook: the model's own evaluation figures on ``split`` for the groups of
        ``measure_groups`` a :class:`pyro_vaes.analysis.measure_request.MeasureRequest` asks
        for (all of them when ``request`` is None)."""
        return {}

    def model(self, *args: Any) -> None:  # pragma: no cover - abstract
        """The generative story; observed values come in as arguments."""
        raise NotImplementedError

    def guide(self, *args: Any) -> None:  # pragma: no cover - abstract
        """The variational family; takes the same arguments as :meth:`model`."""
        raise NotImplementedError

    def image_batch(self, x: torch.Tensor) -> Batch:
        """A batch of single, unlabelled images x (B, C, H, W) in this model's layout
        (ML-VAE: groups of one)."""
        return Batch(x)

    def site_args(self, batch: Batch) -> tuple[Any, ...]:
        """The arguments :meth:`model` and :meth:`guide` take for a batch."""
        return (batch.x,)

    def loss(self, elbo: Any, batch: Batch) -> torch.Tensor:
        """Negative ELBO averaged over the batch's data points (images or groups).

        Models with extra objective terms (a classifier, a supervised bound)
        override this; the ELBO object comes from :func:`pyro_vaes.inference.make_elbo`.
        """
        return negative_elbo(elbo, self.model, self.guide, *self.site_args(batch)) / batch.size

    def objective_terms(self, elbo: Any, batch: Batch) -> dict[str, torch.Tensor]:
        """The training objective's terms other than the ELBO, each a per-data-point mean on
        ``batch`` (labels attached where the data has them), keyed by a name that says what
        it is; logged as ``val_<name>`` beside ``val_elbo``. Penalties are reported as the
        positive amount the objective subtracts, other terms as the value it adds."""
        return {}

    @torch.no_grad()
    def log_likelihood_sums(self, batches: Any, num_samples: int) -> tuple[float, float, int]:
        """Sums over ``batches`` of the ELBO and the K-sample importance-weighted log p(x) per
        data point of ``data_plate`` (labels never observed), and the number of points.

        Samples are drawn in vectorised passes of about ``POINTS_PER_PASS`` data points
        (:func:`pyro_vaes.inference.importance.samples_per_pass`), so the cost is the
        nets' forward cost on K x N points; the sums stay on the data's device and are
        read once, at the end.
        """
        elbo_sum: torch.Tensor | float = 0.0
        iw_sum: torch.Tensor | float = 0.0
        count = 0
        for batch in batches:
            args = self.site_args(Batch(batch.x, None, batch.mask, batch.extra))
            points = int(args[0].shape[0]) * (int(args[0].shape[1]) if args[0].dim() == 5
                                              else 1)
            log_w = chunked_log_importance_weights(
                self.model, self.guide, *args, num_samples=num_samples,
                max_plate_nesting=self.max_plate_nesting, data_plate=self.data_plate,
                chunk_size=samples_per_pass(points, num_samples))
            elbo, log_likelihood = elbo_and_log_likelihood(log_w)
            elbo_sum = elbo_sum + elbo.double().sum()
            iw_sum = iw_sum + log_likelihood.double().sum()
            count += log_w.shape[1]
        return float(elbo_sum), float(iw_sum), count

    def representation(self, x: torch.Tensor) -> dict[str, torch.Tensor]:  # pragma: no cover
        """Posterior means of each latent site for images x (B, C, H, W)."""
        raise NotImplementedError

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:  # pragma: no cover
        """Mean images decoded from the posterior mean of x."""
        raise NotImplementedError

    def generate(self, num_samples: int) -> torch.Tensor:  # pragma: no cover
        """Mean images decoded from prior samples."""
        raise NotImplementedError

    def config_dict(self) -> dict[str, Any]:
        """The model's configuration as a JSON-able dict."""
        return asdict(self.config)
