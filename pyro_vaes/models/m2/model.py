"""M2 (Kingma et al. 2014) as a Pyro model/guide pair (docs/models/m2.md, MODELS.md section 2).

Generative story::

    for n in plate("data", B):
        y_n ~ Categorical(1/K, ..., 1/K)
        z_n ~ N(0, I)
        x_n ~ p(x | y_n, z_n)              # decoder on [z, one_hot(y)]

Guide::

    for n in plate("data", B):
        y_n ~ q(y | x_n)                   # only when unobserved; enumerated in parallel
        z_n ~ q(z | x_n, y_n)              # encoder features of x and one_hot(y)

Unlabelled images sum over the K classes (TraceEnum_ELBO): the decoder runs
once per class. Labelled images add alpha * log q(y | x) (``aux_weight``), a
``pyro.factor`` of the guide (``guide_with_aux``).
The encoder and decoder are the same nets as the CCVAE's (features of x,
a diagonal Normal head, a decoder of K + latent_dim inputs).
"""

from __future__ import annotations

import pyro
import pyro.distributions as dist
import torch
import torch.nn.functional as F
from torch import nn

from pyro_vaes.analysis.measure_request import MeasureRequest
from pyro_vaes.config import scaled_aux_weight
from pyro_vaes.guides import DiagonalNormalGuide
from pyro_vaes.inference.elbo import negative_elbo
from pyro_vaes.labels import LabelSpace
from pyro_vaes.likelihoods import build_likelihood
from pyro_vaes.models.base import Batch, DataInfo, LatentVariableModel
from pyro_vaes.models.m2.config import M2Config


def _with_class(h: torch.Tensor, y: torch.Tensor, num_classes: int) -> torch.Tensor:
    """[h, one_hot(y)] broadcast over the leading dims of both (enumerated y has more)."""
    one_hot = F.one_hot(y, num_classes).to(h.dtype)
    batch = torch.broadcast_shapes(h.shape[:-1], one_hot.shape[:-1])
    return torch.cat([h.expand(*batch, h.shape[-1]), one_hot.expand(*batch, num_classes)], -1)


class M2(LatentVariableModel):
    """y ~ Cat(uniform), z ~ N(0, I), x ~ p(x | y, z); q(y | x), q(z | x, y)."""

    name = "m2"
    description = "M2 (Kingma et al.): y ~ Cat, z ~ N(0, I), x ~ p(x | y, z) (semi-supervised)"
    config_class = M2Config
    supported_elbos = ("enum", "trace")
    default_elbo = "enum"
    max_plate_nesting = 1
    plan = "semi-supervised"
    predicts_labels = True
    measure_groups = ("accuracy", "leakage", "interventions", "diversity")
    needs = ("targets",)
    label_kind = "targets"

    def __init__(self, config: M2Config, data_info: DataInfo, *,
                 encoder: nn.Module | None = None, decoder: nn.Module | None = None) -> None:
        super().__init__(config, data_info)
        self.label_space = LabelSpace.from_data(data_info, "targets")
        self.num_classes = self.label_space.size
        k = self.num_classes
        self.encoder = encoder if encoder is not None else self.build_encoder()
        feature_dim = getattr(self.encoder, "feature_dim", config.hidden_dim)
        self.class_head = nn.Linear(feature_dim, k)
        self.posterior = DiagonalNormalGuide(feature_dim + k, config.latent_dim)
        self.decoder = decoder if decoder is not None else self.build_decoder(config.latent_dim + k)
        self.likelihood = build_likelihood(config.likelihood)
        self.register_buffer("class_logits", torch.zeros(k))
        self.register_buffer("latent_loc", torch.zeros(config.latent_dim))
        self.aux_alpha = scaled_aux_weight(config.aux_weight, config.aux_weight_scale, 1, 1)

    def observe_labelled(self, y: torch.Tensor, num_train: int | None = None) -> None:
        """alpha per labelled image from --aux-weight and --aux-weight-scale."""
        config = self.config
        self.aux_alpha = scaled_aux_weight(config.aux_weight, config.aux_weight_scale,
                                           num_train or len(y), len(y))

    # -- the pieces of the story ------------------------------------------------------
    def class_prior(self) -> dist.Categorical:
        """p(y) = Categorical(1/K, ..., 1/K)."""
        return dist.Categorical(logits=self.class_logits)

    def latent_prior(self) -> dist.TorchDistribution:
        """p(z) = N(0, I)."""
        return dist.Normal(self.latent_loc, 1.0).to_event(1)

    def classify(self, h: torch.Tensor) -> dist.Categorical:
        """q(y | x) from encoder features h."""
        return dist.Categorical(logits=self.class_head(h))

    def decoder_output(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Per-pixel parameters of p(x | y, z)."""
        return self.decoder(_with_class(z, y, self.num_classes))

    # -- model and guide --------------------------------------------------------------
    def model(self, x: torch.Tensor, y: torch.Tensor | None = None) -> None:
        """y ~ Cat(uniform); z ~ N(0, I); x ~ p(x | y, z)."""
        with pyro.plate("data", x.shape[0]):
            y = pyro.sample("y", self.class_prior(), obs=y)
            z = pyro.sample("z", self.latent_prior())
            pyro.sample("x", self.likelihood(self.decoder_output(z, y)), obs=x)

    def guide(self, x: torch.Tensor, y: torch.Tensor | None = None) -> None:
        """y ~ q(y | x) when unobserved (enumerated in parallel); z ~ q(z | x, y)."""
        self._guide(x, y, 0.0)

    def guide_with_aux(self, x: torch.Tensor, y: torch.Tensor) -> None:
        """The guide of a labelled batch with the auxiliary term as a factor.

        ``pyro.factor("aux", -alpha log q(y | x))`` per image, so that minus the ELBO
        per image is the loss -ELBO/B - alpha mean log q(y | x), from the encoder
        features the guide computes anyway (one encoder pass per step).
        """
        self._guide(x, y, self.aux_alpha)

    def _guide(self, x: torch.Tensor, y: torch.Tensor | None, aux_weight: float) -> None:
        h = self.encoder(x)
        with pyro.plate("data", x.shape[0]):
            if y is None:
                y = pyro.sample("y", self.classify(h), infer={"enumerate": "parallel"})
            elif aux_weight > 0:
                pyro.factor("aux", -aux_weight * self.classify(h).log_prob(y), has_rsample=True)
            pyro.sample("z", self.posterior(_with_class(h, y, self.num_classes)))

    def site_args(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(x, y); y None on unlabelled batches."""
        return batch.x, batch.y

    def loss(self, elbo: pyro.infer.ELBO, batch: Batch) -> torch.Tensor:
        """Minus the ELBO per image, minus alpha * mean log q(y | x) on labelled batches
        (through :meth:`guide_with_aux`)."""
        x, y = self.site_args(batch)
        guide = self.guide if y is None or self.aux_alpha <= 0 else self.guide_with_aux
        return negative_elbo(elbo, self.model, guide, x, y) / batch.size

    def objective_terms(self, elbo: pyro.infer.ELBO, batch: Batch) -> dict[str, torch.Tensor]:
        """``aux_classification``: alpha * mean log q(y | x), the term added per labelled
        image (on a batch with labels)."""
        if batch.y is None or self.aux_alpha == 0:
            return {}
        log_qy_x = self.classify(self.encoder(batch.x)).log_prob(batch.y)
        return {"aux_classification": self.aux_alpha * log_qy_x.mean()}

    # -- using a trained model --------------------------------------------------------
    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """argmax_y q(y | x)."""
        return self.class_head(self.encoder(x)).argmax(-1)

    def encode(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Posterior mean of q(z | x, y); y defaults to argmax q(y | x)."""
        h = self.encoder(x)
        if y is None:
            y = self.class_head(h).argmax(-1)
        return self.posterior.loc_scale(_with_class(h, y, self.num_classes))[0]

    def representation(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """{"z": posterior mean of q(z | x, y) at y = argmax q(y | x)}."""
        return {"z": self.encode(x)}

    def decode(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Mean image E[x | y, z]."""
        return self.likelihood.mean(self.decoder_output(z, y))

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """Decode the posterior mean at the predicted class."""
        h = self.encoder(x)
        y = self.class_head(h).argmax(-1)
        return self.decode(self.posterior.loc_scale(_with_class(h, y, self.num_classes))[0], y)

    def sample_latent(self, num_samples: int) -> torch.Tensor:
        """z ~ N(0, I), (N, D)."""
        return self.latent_prior().sample((num_samples,))

    def generate(self, num_samples: int) -> torch.Tensor:
        """y ~ Cat(uniform), z ~ N(0, I), decoded."""
        y = self.class_prior().sample((num_samples,))
        return self.decode(self.sample_latent(num_samples), y)

    def measures(self, splits: object, split: str,
                 request: MeasureRequest | None = None) -> dict[str, object]:
        """q(y | x) accuracy, z leakage, intervention success and diversity: the groups
        ``request`` asks for."""
        from pyro_vaes.models.m2.measures import m2_measures

        return m2_measures(self, splits, split, request)
