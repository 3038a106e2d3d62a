"""What every model in the library shares.

A model is one ``nn.Module`` holding all of its parameters, with a Pyro
``model(...)`` and ``guide(...)`` method. Its class attributes say which
priors, guides, likelihoods and ELBOs it accepts, how its data must be
batched (``plan``) and which plate indexes the data (``data_plate``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

import torch
from torch import nn

from pyro_vaes.config import ELBOS, ModelConfig
from pyro_vaes.errors import ConfigError
from pyro_vaes.guides import GUIDES
from pyro_vaes.inference.elbo import negative_elbo
from pyro_vaes.inference.importance import (
    chunked_log_importance_weights,
    elbo_and_log_likelihood,
    samples_per_pass,
)
from pyro_vaes.likelihoods import LIKELIHOODS
from pyro_vaes.nets import (
    DEFAULT_CHANNELS,
    check_net,
    default_net,
    make_decoder,
    make_encoder,
)
from pyro_vaes.priors import PRIORS


@dataclass
class DataInfo:
    """What a model needs to know about its data to be built (kept in checkpoints)."""

    image_shape: tuple[int, int, int]
    num_classes: int | None = None
    class_names: list[str] | None = None
    attribute_names: list[str] | None = None
    factor_names: list[str] | None = None
    factor_sizes: list[int] | None = None
    label_frequencies: list[float] | None = None

    @classmethod
    def from_splits(cls, splits: Any) -> DataInfo:
        """Read the fields off a :class:`pyro_vaes.data.DataSplits`."""
        return cls(
            image_shape=tuple(int(s) for s in splits.image_shape),
            num_classes=splits.num_classes,
            class_names=splits.class_names,
            attribute_names=splits.attribute_names,
            factor_names=getattr(splits, "factor_names", None),
            factor_sizes=getattr(splits, "factor_sizes", None),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        out = asdict(self)
        out["image_shape"] = list(self.image_shape)
        return out

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> DataInfo:
        """Inverse of :meth:`to_dict`."""
        values = dict(values)
        values["image_shape"] = tuple(values["image_shape"])
        return cls(**values)


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
    supported_priors: ClassVar[tuple[str, ...]] = tuple(PRIORS)
    supported_guides: ClassVar[tuple[str, ...]] = tuple(GUIDES)
    supported_likelihoods: ClassVar[tuple[str, ...]] = tuple(LIKELIHOODS)
    supported_elbos: ClassVar[tuple[str, ...]] = ELBOS
    default_elbo: ClassVar[str] = "trace"
    max_plate_nesting: ClassVar[int] = 1
    data_plate: ClassVar[str] = "data"
    plan: ClassVar[str] = "unsupervised"
    needs: ClassVar[tuple[str, ...]] = ()
    measure_groups: ClassVar[tuple[str, ...]] = ()   # evaluate --measures names (model.measures)

    def __init__(self, config: Any, data_info: DataInfo) -> None:
        super().__init__()
        if getattr(config, "net", "") is None:  # record the net the default chose
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
        checks = [("prior", config.prior, cls.supported_priors),
                  ("guide", config.guide, cls.supported_guides),
                  ("likelihood", config.likelihood, cls.supported_likelihoods)]
        if elbo is not None:
            checks.append(("elbo", elbo, cls.supported_elbos))
        for kind, value, valid in checks:
            if value not in valid:
                raise ConfigError(f"model '{cls.name}' does not take {kind} '{value}'; "
                                  f"valid: {', '.join(valid)}")
        if config.guide == "flow" and config.latent_dim < 2:
            raise ConfigError("guide 'flow' needs --latent-dim of at least 2; "
                              "use --guide diagonal for a 1-D latent")
        if data_info is not None:
            net = getattr(config, "net", None)
            check_net(net, data_info.image_shape)
            net = net or default_net(data_info.image_shape)
            channels = getattr(config, "channels", DEFAULT_CHANNELS)
            if net == "mlp" and channels != DEFAULT_CHANNELS:
                raise ConfigError("--channels only applies with --net conv (got mlp); drop "
                                  "--channels or set --net conv")
            for need in cls.needs:
                have = {"targets": data_info.num_classes,
                        "attributes": data_info.attribute_names}.get(need)
                if not have:
                    raise ConfigError(f"model '{cls.name}' needs {need} in its data set; "
                                      f"choose a labelled data set (see `pyro-vaes list`)")

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
