"""Class-related / class-independent VAE (Hajimiri et al. 2021, "PartedVAE"), docs/models/parted.md.

Generative story (K classes, fixed class prior pi)::

    for n in plate("data", B):
        c_n ~ Categorical(pi)                        # observed where the image is labelled
        u_n ~ N(mu_{c_n}, diag sigma_{c_n}^2)        # class-related: the component c_n of the
                                                     # GaussianMixturePrior
        z_n ~ N(0, I)                                # class-independent
        x_n ~ p(x | f_theta(z_n, u_n))               # the decoder sees (z, u) only

Guide::

    h = trunk(x)
    for n in plate("data", B):
        c_n ~ Categorical(logits = head_c(h_n))     # enumerated exactly when unlabelled
        a = sigmoid(slope * W_{c_n})                 # the class's attention mask over h
        u_n ~ N(head_u(h_n * a))                     # reads only the masked features
        z_n ~ N(head_z(h_n))                         # reads the unmasked features

Loss per image: -ELBO / B (TraceEnum_ELBO) - alpha * mean log q(y | x) on labelled
batches + gamma_bc * sum_{i<j} max(0, BC(p_i, p_j) - tau) (the Bhattacharyya penalty
between the prior's components, added once per batch where the loss is formed), plus the
optional extras of :mod:`pyro_vaes.models.parted.objective`.
"""

from __future__ import annotations

from typing import Any

import pyro
import pyro.distributions as dist
import torch
from torch import nn
from torch.distributions import kl_divergence

from pyro_vaes.analysis.measure_request import MeasureRequest
from pyro_vaes.errors import ConfigError
from pyro_vaes.guides import DiagonalNormalGuide
from pyro_vaes.inference.bhattacharyya import bhattacharyya_hinge
from pyro_vaes.inference.elbo import negative_elbo
from pyro_vaes.likelihoods import build_likelihood
from pyro_vaes.models.base import Batch, DataInfo, LatentVariableModel
from pyro_vaes.models.parted.attention import ClassAttention
from pyro_vaes.models.parted.config import PartedConfig
from pyro_vaes.models.parted.objective import (
    analytic_kls,
    batch_class_kl,
    batch_entropy_terms,
    capacity_hinge,
    capacity_penalty,
    enumerated_terms,
    linear_capacity,
    mean_class_entropy,
)
from pyro_vaes.priors import GaussianMixturePrior, StandardNormalPrior


class PartedVAE(LatentVariableModel):
    """c ~ pi, u ~ N(mu_c, sigma_c), z ~ N(0, I), x ~ p(x | z, u); attention-masked q(u | x, c)."""

    name = "parted"
    description = ("class-related / class-independent VAE: class c, class-related u with a "
                   "per-class Gaussian prior, class-independent z (semi-supervised, --labels N)")
    config_class = PartedConfig
    supported_elbos = ("enum",)
    default_elbo = "enum"
    max_plate_nesting = 1
    plan = "semi-supervised"
    predicts_labels = True
    measure_groups = ("accuracy", "probes", "overlaps", "factors")
    needs = ("targets",)
    label_kind = "targets"

    def __init__(self, config: PartedConfig, data_info: DataInfo, *,
                 encoder: nn.Module | None = None, decoder: nn.Module | None = None) -> None:
        super().__init__(config, data_info)
        self.num_classes = int(data_info.num_classes or 0)
        self.encoder = encoder if encoder is not None else self.build_encoder()
        features = getattr(self.encoder, "feature_dim", config.hidden_dim)
        self.classifier = nn.Linear(features, self.num_classes)
        self.attention = ClassAttention(self.num_classes, features)
        self.z_dim = config.latent_dim - config.class_dim
        self.u_head = DiagonalNormalGuide(features, config.class_dim)
        self.z_head = DiagonalNormalGuide(features, self.z_dim)
        if decoder is None:
            decoder = self.build_decoder(config.latent_dim)
        self.decoder = decoder
        # The mixture's weights are the fixed class prior pi (uniform, not learned).
        self.u_prior = GaussianMixturePrior(config.class_dim, self.num_classes,
                                            learn_weights=False)
        self.z_prior = StandardNormalPrior(self.z_dim)
        self.likelihood = build_likelihood(config.likelihood)
        self.register_buffer("train_slope", torch.tensor(float(config.slope_start)))
        self.register_buffer("steps", torch.tensor(0, dtype=torch.long))

    @classmethod
    def check_compatible(cls, config: Any, elbo: str | None = None,
                         data_info: DataInfo | None = None) -> None:
        """Also refuse an empty z."""
        super().check_compatible(config, elbo, data_info)
        if config.class_dim >= config.latent_dim:
            raise ConfigError(f"--class-dim {config.class_dim} leaves no class-independent "
                              f"dimension of --latent-dim {config.latent_dim}; make --latent-dim "
                              f"larger than --class-dim")

    # -- the pieces of the story ---------------------------------------------------------
    def class_prior(self) -> dist.Categorical:
        """p(c) = pi: the mixture's fixed weights."""
        return dist.Categorical(logits=self.u_prior.logits)

    def class_component(self, c: torch.Tensor) -> dist.TorchDistribution:
        """p(u | c) = N(mu_c, diag sigma_c^2), batch shape c.shape."""
        return dist.Normal(self.u_prior.means[c], self.u_prior.scales[c]).to_event(1)

    def bhattacharyya_penalty(self) -> torch.Tensor:
        """sum_{i<j} max(0, BC_ij - tau) between the prior's components."""
        return bhattacharyya_hinge(self.u_prior.means, self.u_prior.scales ** 2, self.config.tau)

    @property
    def slope(self) -> torch.Tensor:
        """The attention slope: annealed during training, ``slope_end`` in evaluation mode.
        With ``slope_per_step``: slope_start + slope_per_step * t at training step t, at most
        slope_end (the authors' schedule)."""
        config = self.config
        if self.training and config.slope_per_step is not None:
            rising = config.slope_start + config.slope_per_step * self.steps.to(torch.float32)
            return rising.clamp(max=config.slope_end)
        if self.training:
            return self.train_slope
        return torch.tensor(float(self.config.slope_end), device=self.train_slope.device)

    def on_epoch_start(self, epoch: int, epochs: int) -> None:
        """Trainer hook: slope = slope_start + (slope_end - slope_start) * min(1, epoch / (E - 1))
        with E = ``slope_epochs`` (default: all ``epochs``); slope_end when E is 1."""
        if self.config.slope_per_step is not None:  # the slope follows the steps instead
            return
        span = self.config.slope_epochs or epochs
        progress = 1.0 if span <= 1 else min(1.0, epoch / (span - 1))
        start, end = self.config.slope_start, self.config.slope_end
        self.train_slope.fill_(start + (end - start) * progress)

    def decoder_output(self, z: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        """f_theta(z, u): the likelihood's parameters; z and u broadcast in their batch dims."""
        shape = torch.broadcast_shapes(z.shape[:-1], u.shape[:-1])
        zu = torch.cat([z.expand(*shape, z.shape[-1]), u.expand(*shape, u.shape[-1])], dim=-1)
        return self.decoder(zu)

    def class_logits(self, h: torch.Tensor) -> torch.Tensor:
        """head_c(h): logits of q(c | x), (B, K)."""
        return self.classifier(h)

    def u_posterior(self, h: torch.Tensor, c: torch.Tensor) -> dist.TorchDistribution:
        """q(u | x, c) = N(head_u(h * a_c)); batch shape broadcast(c.shape, h.shape[:-1])."""
        return self.u_head(self.attention(h, c, self.slope))

    def z_posterior(self, h: torch.Tensor) -> dist.TorchDistribution:
        """q(z | x) = N(head_z(h)) from the unmasked features."""
        return self.z_head(h)

    # -- the generative story and the guide ----------------------------------------------
    def model(self, x: torch.Tensor, y: torch.Tensor | None = None) -> None:
        """c ~ pi; u ~ N(mu_c, sigma_c); z ~ N(0, I); x ~ p(x | z, u)."""
        with pyro.plate("data", x.shape[0]):
            c = pyro.sample("c", self.class_prior(), obs=y)
            u = pyro.sample("u", self.class_component(c))
            z = pyro.sample("z", self.z_prior())
            pyro.sample("x", self.likelihood(self.decoder_output(z, u)), obs=x)

    def guide(self, x: torch.Tensor, y: torch.Tensor | None = None) -> None:
        """c ~ q(c | x) (enumerated) unless labelled; u ~ q(u | x, c); z ~ q(z | x)."""
        self._guide(x, y, 0.0)

    def guide_with_supervision(self, x: torch.Tensor, y: torch.Tensor) -> None:
        """The guide of a labelled batch with ``pyro.factor("supervised", -alpha log q(y|x))``
        per image: minus the ELBO per image is then -ELBO/B - alpha mean log q(y | x),
        from the features the guide computes anyway."""
        self._guide(x, y, self.config.alpha)

    def _guide(self, x: torch.Tensor, y: torch.Tensor | None, alpha: float) -> None:
        h = self.encoder(x)
        logits = self.class_logits(h)
        with pyro.plate("data", x.shape[0]):
            if y is None:
                c = pyro.sample("c", dist.Categorical(logits=logits),
                                infer={"enumerate": "parallel"})
            else:
                c = y
                if alpha > 0:
                    pyro.factor("supervised", -alpha * dist.Categorical(logits=logits).log_prob(y),
                                has_rsample=True)
            pyro.sample("u", self.u_posterior(h, c))
            pyro.sample("z", self.z_posterior(h))

    def site_args(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(x, y): y the class indices of a labelled batch, None for an unlabelled one."""
        return batch.x, batch.y

    # -- the objective ---------------------------------------------------------------------
    def loss(self, elbo: Any, batch: Batch) -> torch.Tensor:
        """-ELBO / B - alpha * mean log q(y | x) (labelled batches, through
        :meth:`guide_with_supervision`) + gamma_bc * the Bhattacharyya hinge (a penalty on the
        prior, once per batch) + optional extras."""
        x, y = self.site_args(batch)
        if self.training and torch.is_grad_enabled():
            self.steps += 1
        config = self.config
        if config.objective == "capacity":
            return self.capacity_objective(x, y)["loss"]
        supervised = y is not None and config.alpha > 0
        guide = self.guide_with_supervision if supervised else self.guide
        loss = negative_elbo(elbo, self.model, guide, x, y) / batch.size
        if config.gamma_bc > 0:
            loss = loss + config.gamma_bc * self.bhattacharyya_penalty()
        if config.capacity_weight <= 0 and config.entropy_weight <= 0:
            return loss
        h = self.encoder(x)
        logits = self.class_logits(h)
        if config.capacity_weight > 0:
            loss = loss + config.capacity_weight * self.capacity_term(h, logits)
        if config.entropy_weight > 0:
            loss = loss + config.entropy_weight * batch_entropy_terms(logits)
        return loss

    def capacity_objective(self, x: torch.Tensor,
                           y: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """The authors' objective (``--objective capacity``), per image, and its terms::

            loss = -recon + gamma |C_z(t) - KL_z| + gamma |C_u(t) - E_q(c|x) KL_u|
                   + w_c KL(mean_b q(c|x_b) || pi) + w_h mean_b H(q(c|x_b))
                   + gamma_bc sum_{i<j} max(0, BC_ij - tau)  [- alpha mean log q(y|x), labelled]

        c is summed exactly (the decoder sees every class's u); on a labelled batch q(c|x)
        is replaced by the one-hot label. t is the training step (``steps``).
        """
        config = self.config
        h = self.encoder(x)
        logits = self.class_logits(h)
        probs = logits.softmax(-1)
        if y is not None:
            probs = torch.nn.functional.one_hot(y, self.num_classes).to(probs)
        classes = torch.arange(self.num_classes, device=x.device).unsqueeze(-1)
        u_posteriors = self.u_posterior(h, classes)                       # (K, B)
        z_posterior = self.z_posterior(h)                                 # (B,)
        output = self.decoder_output(z_posterior.rsample(), u_posteriors.rsample())
        terms = enumerated_terms(
            probs, self.likelihood(output).log_prob(x),
            kl_divergence(u_posteriors, self.class_component(classes)),
            kl_divergence(z_posterior, self.z_prior()))
        step = max(int(self.steps), 1)
        terms["c_batch_kl"] = batch_class_kl(probs, self.u_prior.logits)
        terms["c_entropy"] = mean_class_entropy(probs)
        terms["z_capacity_penalty"] = capacity_hinge(
            terms["kl_z"], linear_capacity(step, config.capacity_steps, config.z_capacity),
            config.capacity_gamma)
        terms["u_capacity_penalty"] = capacity_hinge(
            terms["kl_u"], linear_capacity(step, config.capacity_steps, config.u_capacity),
            config.capacity_gamma)
        terms["bhattacharyya_penalty"] = config.gamma_bc * self.bhattacharyya_penalty()
        loss = (-terms["recon"] + terms["z_capacity_penalty"] + terms["u_capacity_penalty"]
                + config.c_kl_weight * terms["c_batch_kl"]
                + config.c_entropy_weight * terms["c_entropy"] + terms["bhattacharyya_penalty"])
        if y is not None and config.alpha > 0:
            terms["aux_classification"] = (config.alpha * dist.Categorical(logits=logits)
                                           .log_prob(y).mean())
            loss = loss - terms["aux_classification"]
        terms["loss"] = loss
        return terms

    def supervised_parameters(self) -> list[nn.Parameter]:
        """The trunk and the class head: what q(c | x) is computed from."""
        return [*self.encoder.parameters(), *self.classifier.parameters()]

    def supervised_loss(self, batch: Batch) -> torch.Tensor:
        """Mean cross-entropy -log q(y | x) of a labelled batch."""
        logits = self.class_logits(self.encoder(batch.x))
        return torch.nn.functional.cross_entropy(logits, batch.y)

    def capacity_term(self, h: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        """|C_cont(t) - KL_cont| + |C_disc(t) - KL_disc| (objective.capacity_penalty)."""
        classes = torch.arange(self.num_classes, device=h.device).unsqueeze(-1)
        kl_cont, kl_disc = analytic_kls(logits, self.u_prior.logits,
                                        self.u_posterior(h, classes),
                                        self.class_component(classes), self.z_posterior(h))
        config = self.config
        return capacity_penalty(kl_cont, kl_disc, step=int(self.steps),
                                steps=config.capacity_steps,
                                max_continuous=config.capacity_continuous,
                                max_discrete=config.capacity_discrete)

    def objective_terms(self, elbo: Any, batch: Batch) -> dict[str, torch.Tensor]:
        """The terms the loss adds to -ELBO, per image: ``bhattacharyya_penalty`` (gamma_bc x
        hinge, subtracted), ``aux_classification`` (alpha * mean log q(y | x), added on
        labelled images), and, when switched on, ``capacity_penalty`` and
        ``batch_entropy_penalty`` (both subtracted)."""
        config = self.config
        if config.objective == "capacity":
            # as the main loss sees images in the authors' recipe: unlabelled; the
            # reconstruction and the KLs are the diagnostics' (val_recon, val_kl_<site>)
            terms = self.capacity_objective(batch.x)
            out = {name: terms[name] for name in ("z_capacity_penalty", "u_capacity_penalty",
                                                  "bhattacharyya_penalty")}
            out["c_batch_kl_penalty"] = config.c_kl_weight * terms["c_batch_kl"]
            out["c_entropy_penalty"] = config.c_entropy_weight * terms["c_entropy"]
            return out
        terms: dict[str, torch.Tensor] = {}
        if config.gamma_bc > 0:
            terms["bhattacharyya_penalty"] = config.gamma_bc * self.bhattacharyya_penalty()
        h = self.encoder(batch.x)
        logits = self.class_logits(h)
        if batch.y is not None and config.alpha > 0:
            terms["aux_classification"] = (config.alpha * dist.Categorical(logits=logits)
                                           .log_prob(batch.y).mean())
        if config.capacity_weight > 0:
            terms["capacity_penalty"] = config.capacity_weight * self.capacity_term(h, logits)
        if config.entropy_weight > 0:
            terms["batch_entropy_penalty"] = config.entropy_weight * batch_entropy_terms(logits)
        return terms

    # -- using a trained model ---------------------------------------------------------------
    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """argmax_c q(c | x)."""
        return self.class_logits(self.encoder(x)).argmax(-1)

    def classify(self, x: torch.Tensor) -> torch.Tensor:
        """q(c | x) as probabilities (B, K)."""
        return self.class_logits(self.encoder(x)).softmax(-1)

    def u_means(self, h: torch.Tensor) -> torch.Tensor:
        """The mean of q(u | x, k) for every class k, (K, B, D_u)."""
        classes = torch.arange(self.num_classes, device=h.device).unsqueeze(-1)
        return self.u_head.loc(self.attention(h, classes, self.slope))

    def encode(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Predicted class (argmax q(c|x)), its u mean and z's mean: what decoding uses."""
        h = self.encoder(x)
        c = self.class_logits(h).argmax(-1)
        u = self.u_head.loc(self.attention(h, c, self.slope))
        return {"c": c, "u": u, "z": self.z_head.loc(h)}

    def representation(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Posterior means: c -> q(c | x); u -> sum_k q(k | x) E[u | x, k]; z -> E[z | x]."""
        h = self.encoder(x)
        probs = self.class_logits(h).softmax(-1)
        u = (probs.T.unsqueeze(-1) * self.u_means(h)).sum(0)
        return {"c": probs, "u": u, "z": self.z_head.loc(h)}

    def decode(self, z: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        """Mean image E[x | z, u]."""
        return self.likelihood.mean(self.decoder_output(z, u))

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """Decode z's mean and u's mean under the predicted class."""
        codes = self.encode(x)
        return self.decode(codes["z"], codes["u"])

    def generate(self, num_samples: int, c: torch.Tensor | None = None) -> torch.Tensor:
        """Decode c ~ pi (or the given classes), u ~ N(mu_c, sigma_c), z ~ N(0, I)."""
        if c is None:
            c = self.class_prior().sample((num_samples,))
        u = self.class_component(c).sample()
        z = self.z_prior().sample((c.shape[0],))
        return self.decode(z, u)

    def measures(self, splits: Any, split: str = "test",
                 request: MeasureRequest | None = None) -> dict[str, Any]:
        """Accuracy of q(c|x), u/z linear probes, pairwise BC of the components."""
        from pyro_vaes.models.parted.measures import parted_measures

        return parted_measures(self, splits, split, request)
