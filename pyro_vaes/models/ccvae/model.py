"""CCVAE as a Pyro model/guide pair (docs/models/ccvae.md, MODELS.md section 3).

Generative story (L characteristic latents, one per binary label or per class)::

    for n in plate("data", B):
        for i in plate("labels", L):
            y_n,i   ~ Bernoulli(pi_i)                  # p(y): labelled-subset frequencies
            z_c,n,i ~ N(m_i(y_n,i), s_i(y_n,i))        # conditional prior p(z_c | y)
        z_s,n ~ N(0, I)                                # style
        x_n   ~ p(x | z_c,n, z_s,n)                    # x does not see y

(A K-class label: y_n ~ Categorical(pi) in the data plate, and latent k's prior
uses the pair of the fact "y_n == k".)

Guide::

    for n in plate("data", B):
        z_n = (z_c,n, z_s,n) ~ N(mu(x_n), sigma(x_n))  # one encoder over the whole z
        for i in plate("labels", L):
            y_n,i ~ Bernoulli(logits = w_i z_c,n,i + b_i)   # diagonal classifier q(y | z_c)

Unlabelled batches: the ELBO of Pyro (TraceEnum_ELBO by default, with y
enumerated in parallel inside the labels plate: 2L evaluations for L binary
labels, K for a K-class label; Trace_ELBO samples y with a score-function
estimate). Labelled batches: the supervised bound of
:mod:`pyro_vaes.models.ccvae.objective`.
"""

from __future__ import annotations

import warnings

import pyro
import pyro.distributions as dist
import torch
from torch import nn

from pyro_vaes.analysis.measure_request import MeasureRequest
from pyro_vaes.config import scaled_aux_weight
from pyro_vaes.errors import ConfigError
from pyro_vaes.guides import DiagonalNormalGuide
from pyro_vaes.inference.elbo import negative_elbo
from pyro_vaes.labels import LabelSpace
from pyro_vaes.likelihoods import build_likelihood
from pyro_vaes.models.base import Batch, DataInfo, LatentVariableModel
from pyro_vaes.models.ccvae.components import ConditionalPrior, DiagonalClassifier
from pyro_vaes.models.ccvae.config import CCVAEConfig
from pyro_vaes.models.ccvae.objective import supervised_terms

ENUMERATE = {"enumerate": "parallel"}
DEFAULT_STYLE_DIM = 10
_PLATE_WARNING = r'at model site "(z_s|x)", possibly invalid dependency'


def style_dim(config: CCVAEConfig, num_characteristic: int) -> int:
    """Size of z_s: ``--latent-dim`` minus the L characteristic latents (default style 10)."""
    if config.latent_dim is None:
        return DEFAULT_STYLE_DIM
    if config.latent_dim <= num_characteristic:
        raise ConfigError(f"--latent-dim {config.latent_dim} leaves no style dimension after the "
                          f"{num_characteristic} characteristic latents (one per label); give "
                          f"--latent-dim of at least {num_characteristic + 1}")
    return config.latent_dim - num_characteristic


class CCVAE(LatentVariableModel):
    """Characteristic latents z_c tied to labels through p(z_c | y) and q(y | z_c); style z_s."""

    name = "ccvae"
    description = ("CCVAE: characteristic latents z_c per label, style z_s, p(z_c | y), "
                   "diagonal q(y | z_c) (semi-supervised)")
    config_class = CCVAEConfig
    supported_elbos = ("enum", "trace")
    default_elbo = "enum"
    max_plate_nesting = 2
    plan = "semi-supervised"
    predicts_labels = True
    measure_groups = ("accuracy", "leakage", "interventions", "diversity")

    def __init__(self, config: CCVAEConfig, data_info: DataInfo, *,
                 encoder: nn.Module | None = None, decoder: nn.Module | None = None) -> None:
        super().__init__(config, data_info)
        self.label_space = LabelSpace.from_data(data_info, config.label_kind)
        self.label_kind = self.label_space.kind
        size, style = self.label_space.size, style_dim(config, self.label_space.size)
        self.style_dim = style
        self.encoder = encoder if encoder is not None else self.build_encoder()
        feature_dim = getattr(self.encoder, "feature_dim", config.hidden_dim)
        self.posterior = DiagonalNormalGuide(feature_dim, size + style)
        self.decoder = decoder if decoder is not None else self.build_decoder(size + style)
        self.likelihood = build_likelihood(config.likelihood)
        self.conditional_prior = ConditionalPrior(size)
        self.classifier = DiagonalClassifier(size, self.label_space.multiclass)
        uniform = torch.full((size,), 1.0 / size if self.label_space.multiclass else 0.5)
        self.register_buffer("label_probs", uniform)
        self.register_buffer("style_loc", torch.zeros(style))
        self.aux_alpha = scaled_aux_weight(config.aux_weight, config.aux_weight_scale, 1, 1)

    @classmethod
    def check_compatible(cls, config: CCVAEConfig, elbo: str | None = None,
                         data_info: DataInfo | None = None) -> None:
        """The base checks, and that the data has the labels ``--label-kind`` asks for."""
        super().check_compatible(config, elbo, data_info)
        if data_info is not None:
            space = LabelSpace.from_data(data_info, config.label_kind)
            style_dim(config, space.size)

    # -- the pieces of the story ------------------------------------------------------
    def label_prior(self) -> dist.TorchDistribution:
        """p(y): the label frequencies of the labelled subset (``label_probs``)."""
        if self.label_space.multiclass:
            return dist.Categorical(probs=self.label_probs)
        return dist.Bernoulli(probs=self.label_probs)

    def style_prior(self) -> dist.TorchDistribution:
        """p(z_s) = N(0, I)."""
        return dist.Normal(self.style_loc, 1.0).to_event(1)

    def observe_labelled(self, y: torch.Tensor, num_train: int | None = None) -> None:
        """Set p(y) from the labelled subset's labels, add-one smoothed (no zero probability),
        and alpha of the optional ``aux_weight`` term (``aux_weight_scale``)."""
        config = self.config
        self.aux_alpha = scaled_aux_weight(config.aux_weight, config.aux_weight_scale,
                                           num_train or len(y), len(y))
        size = self.label_space.size
        if self.label_space.multiclass:
            counts = torch.bincount(y.long().cpu(), minlength=size).to(self.label_probs)
            probs = (counts + 1) / (counts.sum() + size)
        else:
            probs = (y.to(self.label_probs).sum(0) + 1) / (y.shape[0] + 2)
        self.label_probs.copy_(probs.to(self.label_probs.device))

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor,
                                               torch.Tensor]:
        """q(z | x) parameters split as (loc_c, scale_c, loc_s, scale_s)."""
        loc, scale = self.posterior.loc_scale(self.encoder(x))
        split = [self.label_space.size, self.style_dim]
        loc_c, loc_s = loc.split(split, -1)
        scale_c, scale_s = scale.split(split, -1)
        return loc_c, scale_c, loc_s, scale_s

    def decoder_output(self, z_c: torch.Tensor, z_s: torch.Tensor) -> torch.Tensor:
        """Per-pixel parameters of p(x | z_c, z_s); z_c (..., L), z_s (..., D)."""
        return self.decoder(torch.cat([z_c, z_s], -1))

    # -- model and guide --------------------------------------------------------------
    def model(self, x: torch.Tensor, y: torch.Tensor | None = None) -> None:
        """y ~ p(y); z_c ~ p(z_c | y); z_s ~ N(0, I); x ~ p(x | z_c, z_s)."""
        labels = pyro.plate("labels", self.label_space.size, dim=-1)
        y = self.label_space.site_value(y)
        with pyro.plate("data", x.shape[0], dim=-2):
            if self.label_space.multiclass:
                y = pyro.sample("y", self.label_prior(), obs=y)
            with labels:
                if not self.label_space.multiclass:
                    y = pyro.sample("y", self.label_prior(), obs=y)
                z_c = pyro.sample("z_c", self.conditional_prior(self.label_space.indicators(y)))
            z_s = pyro.sample("z_s", self.style_prior())
            output = self.decoder_output(z_c, z_s.squeeze(-2)).unsqueeze(-4)
            pyro.sample("x", self.likelihood(output), obs=x.unsqueeze(-4))

    def guide(self, x: torch.Tensor, y: torch.Tensor | None = None) -> None:
        """z = (z_c, z_s) ~ q(z | x); y ~ q(y | z_c), enumerated in parallel when unobserved."""
        loc_c, scale_c, loc_s, scale_s = self.encode(x)
        labels = pyro.plate("labels", self.label_space.size, dim=-1)
        y = self.label_space.site_value(y)
        with pyro.plate("data", x.shape[0], dim=-2):
            with labels:
                z_c = pyro.sample("z_c", dist.Normal(loc_c, scale_c))
            pyro.sample("z_s", dist.Normal(loc_s.unsqueeze(-2), scale_s.unsqueeze(-2))
                        .to_event(1))
            # classifier_detach: log q(y|z_c) sends no gradient to the encoder (authors' code)
            z_c_seen = z_c.detach() if self.config.classifier_detach else z_c
            if self.label_space.multiclass:
                pyro.sample("y", self.classifier(z_c_seen), obs=y, infer=ENUMERATE)
            else:
                with labels:
                    pyro.sample("y", self.classifier(z_c_seen), obs=y, infer=ENUMERATE)

    def site_args(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(x, y); y None on unlabelled batches."""
        return batch.x, batch.y

    def loss(self, elbo: pyro.infer.ELBO, batch: Batch) -> torch.Tensor:
        """Labelled: minus the supervised bound; unlabelled: minus Pyro's ELBO (per image)."""
        x, y = self.site_args(batch)
        if y is not None:
            terms = supervised_terms(self, x, y)
            if self.aux_alpha > 0:  # the remedy: M2's alpha log q(y|x) on labelled images
                return -(terms.bound + self.aux_alpha * terms.log_qy_x).mean()
            return -terms.bound.mean()
        with warnings.catch_warnings():
            # Pyro's plate check sees z_s and x after the enumerated y_i of the labels plate and
            # warns of a possible dependence; x sees y only through z_c, which the guide samples
            # (not enumerated), so the sum over y stays exact (tests/test_ccvae_objective.py).
            warnings.filterwarnings("ignore", message=_PLATE_WARNING, category=RuntimeWarning)
            return negative_elbo(elbo, self.model, self.guide, x) / batch.size

    def objective_terms(self, elbo: pyro.infer.ELBO, batch: Batch) -> dict[str, torch.Tensor]:
        """``supervised_bound``: the labelled objective L(x, y) per image (on a batch with
        labels), which replaces the ELBO on labelled images."""
        if batch.y is None:
            return {}
        terms = supervised_terms(self, batch.x, batch.y)
        out = {"supervised_bound": terms.bound.mean()}
        if self.aux_alpha > 0:
            out["aux_classification"] = self.aux_alpha * terms.log_qy_x.mean()
        return out

    # -- using a trained model --------------------------------------------------------
    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """Most probable labels under q(y | z_c) at the posterior mean of z_c: class indices
        (B,) or 0/1 attributes (B, L)."""
        return self.classifier.predict(self.encode(x)[0])

    def representation(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """{"z_c": posterior mean of z_c, "z_s": posterior mean of z_s}."""
        loc_c, _, loc_s, _ = self.encode(x)
        return {"z_c": loc_c, "z_s": loc_s}

    def decode(self, z_c: torch.Tensor, z_s: torch.Tensor) -> torch.Tensor:
        """Mean image E[x | z_c, z_s]."""
        return self.likelihood.mean(self.decoder_output(z_c, z_s))

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """Decode the posterior mean."""
        loc_c, _, loc_s, _ = self.encode(x)
        return self.decode(loc_c, loc_s)

    def sample_characteristics(self, y: torch.Tensor) -> torch.Tensor:
        """z_c ~ p(z_c | y) for labels y as a batch holds them ((N,) classes or (N, L))."""
        on = self.label_space.indicators(self.label_space.site_value(y))
        return self.conditional_prior(on).sample()

    def sample_style(self, num_samples: int) -> torch.Tensor:
        """z_s ~ N(0, I), (N, D)."""
        return self.style_prior().sample((num_samples,))

    def generate(self, num_samples: int) -> torch.Tensor:
        """y ~ p(y), z_c ~ p(z_c | y), z_s ~ N(0, I), decoded."""
        y = self.label_prior().sample((num_samples,))
        return self.decode(self.sample_characteristics(y), self.sample_style(num_samples))

    def measures(self, splits: object, split: str,
                 request: MeasureRequest | None = None) -> dict[str, object]:
        """Accuracy, z_s leakage, intervention success and diversity (see measures.py): the
        groups ``request`` asks for."""
        from pyro_vaes.models.ccvae.measures import ccvae_measures

        return ccvae_measures(self, splits, split, request)
