"""ML-VAE (Bouchacourt et al., 2018) as a Pyro model/guide pair (docs/models/mlvae.md).

Generative story (``x`` is (G, n, C, H, W), ``mask`` (G, n) marks real members)::

    for g in plate("groups", G):
        c_g ~ N(0, I)                            # content, shared by the group
        for i in plate("members", n):           # padded members masked out
            s_i ~ N(0, I)                        # style, one per member
            x_i ~ p(x | f_theta(c_g, s_i))       # likelihood (Bernoulli, Laplace or Normal)

Guide::

    every member: h_i = e_phi(x_i);  (mu_c,i, sigma_c,i) = content head(h_i);
                                     (mu_s,i, sigma_s,i) = style head(h_i)
    for g in plate("groups", G):
        c_g ~ N(mean_g, sigma_g^2)               # accumulated: normalised product (or mean)
        for i in plate("members", n):
            s_i ~ N(mu_s,i, sigma_s,i^2)

The group ELBO is sum_i E[log p(x_i | c_g, s_i)] - sum_i KL(q(s_i) || p(s))
- KL(q(c_g) || p(c)); the loss is its negative averaged over groups.
"""

from __future__ import annotations

from typing import Any

import pyro
import pyro.distributions as dist
import torch
from pyro import poutine
from torch import nn

from pyro_vaes.analysis.measure_request import MeasureRequest
from pyro_vaes.errors import ConfigError
from pyro_vaes.guides import DiagonalNormalGuide
from pyro_vaes.likelihoods import build_likelihood
from pyro_vaes.models.base import Batch, DataInfo, LatentVariableModel
from pyro_vaes.models.mlvae.accumulation import accumulate
from pyro_vaes.models.mlvae.config import MLVAEConfig
from pyro_vaes.models.mlvae.grouping import level_names, parse_levels
from pyro_vaes.priors import StandardNormalPrior


class MLVAE(LatentVariableModel):
    """Group content c_g shared by the members of a group, style s_i per member."""

    name = "mlvae"
    description = ("ML-VAE: groups sharing a label (--group-by) share content c, "
                   "each member has its own style s")
    config_class = MLVAEConfig
    supported_elbos = ("meanfield", "trace")
    default_elbo = "meanfield"
    max_plate_nesting = 2
    data_plate = "groups"
    plan = "grouped"
    measure_groups = ("probes", "accumulated_probe", "heldout")

    def __init__(self, config: MLVAEConfig, data_info: DataInfo, *,
                 encoder: nn.Module | None = None, decoder: nn.Module | None = None) -> None:
        super().__init__(config, data_info)
        self.content_dim = config.content_dim
        self.style_dim = config.latent_dim - config.content_dim
        self.encoder = encoder if encoder is not None else self.build_encoder()
        feature_dim = getattr(self.encoder, "feature_dim", config.hidden_dim)
        self.content_head = DiagonalNormalGuide(feature_dim, self.content_dim)
        self.style_head = DiagonalNormalGuide(feature_dim, self.style_dim)
        self.decoder = decoder if decoder is not None else self.build_decoder(config.latent_dim)
        self.content_prior = StandardNormalPrior(self.content_dim)
        self.style_prior = StandardNormalPrior(self.style_dim)
        self.likelihood = build_likelihood(config.likelihood)
        self.holdout_groups = parse_levels(config.holdout_classes, config.group_by, data_info)

    @classmethod
    def check_compatible(cls, config: Any, elbo: str | None = None,
                         data_info: DataInfo | None = None) -> None:
        """Also refuse an empty style, an inverted size range and unknown group keys."""
        super().check_compatible(config, elbo, data_info)
        if config.content_dim >= config.latent_dim:
            raise ConfigError(f"--content-dim {config.content_dim} leaves no style dimension "
                              f"of --latent-dim {config.latent_dim}; make --latent-dim larger")
        if config.max_group_size is not None and config.max_group_size < config.group_size:
            raise ConfigError(f"--max-group-size {config.max_group_size} is below --group-size "
                              f"{config.group_size}; give a range low <= high")
        if data_info is not None:
            level_names(config.group_by, data_info)
            parse_levels(config.holdout_classes, config.group_by, data_info)

    # -- the generative story and the guide -------------------------------------------
    def model(self, x: torch.Tensor, mask: torch.Tensor) -> None:
        """c_g ~ N(0, I); s_i ~ N(0, I); x_i ~ p(x | c_g, s_i) for the real members."""
        groups, members = x.shape[0], x.shape[1]
        with pyro.plate("groups", groups, dim=-2):
            c = pyro.sample("c", self.content_prior())
            with pyro.plate("members", members, dim=-1), poutine.mask(mask=mask):
                with poutine.scale(scale=self.config.style_beta):    # --style-beta
                    s = pyro.sample("s", self.style_prior())
                z = torch.cat([c.expand(*s.shape[:-1], self.content_dim), s], dim=-1)
                pyro.sample("x", self.likelihood(self.decoder(z)), obs=x)

    def guide(self, x: torch.Tensor, mask: torch.Tensor) -> None:
        """c_g ~ accumulated q(c_g | X_g); s_i ~ q(s_i | x_i) for the real members."""
        groups, members = x.shape[0], x.shape[1]
        features = self.encoder(x)
        loc, scale = self.group_content(features, mask)
        with pyro.plate("groups", groups, dim=-2):
            pyro.sample("c", dist.Normal(loc.unsqueeze(-2), scale.unsqueeze(-2)).to_event(1))
            with pyro.plate("members", members, dim=-1), poutine.mask(mask=mask), \
                    poutine.scale(scale=self.config.style_beta):           # --style-beta
                pyro.sample("s", self.style_head(features))

    def group_content(self, features: torch.Tensor, mask: torch.Tensor
                      ) -> tuple[torch.Tensor, torch.Tensor]:
        """q(c_g | X_g): the members' content Gaussians (G, n, Dc) accumulated to (G, Dc)."""
        loc, scale = self.content_head.loc_scale(features)
        return accumulate(self.config.accumulation, loc, scale, mask)

    def site_args(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        """(x (G, n, C, H, W), mask (G, n) bool); single images (B, C, H, W) are groups of one."""
        x = batch.x if batch.x.dim() == 5 else batch.x.unsqueeze(1)
        mask = batch.mask
        if mask is None:
            mask = torch.ones(x.shape[:2], dtype=torch.bool, device=x.device)
        return x, mask.to(torch.bool)

    def objective_terms(self, elbo: Any, batch: Batch) -> dict[str, torch.Tensor]:
        """With --style-beta != 1 the training objective weights the style KL by beta_s:
        ``style_beta_weighted_elbo`` per group."""
        if self.config.style_beta == 1.0:
            return {}
        return {"style_beta_weighted_elbo": -self.loss(elbo, batch)}

    # -- using a trained model -------------------------------------------------------
    def representation(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Posterior means of content and style for single images (B, C, H, W), each alone."""
        features = self.encoder(x)
        return {"c": self.content_head.loc(features), "s": self.style_head.loc(features)}

    def group_representation(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Accumulated content mean (G, Dc) of groups x (G, n, C, H, W)."""
        return self.group_content(self.encoder(x), mask.to(torch.bool))[0]

    def decode(self, c: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        """Mean image E[x | c, s]; c and s broadcast against each other."""
        shape = torch.broadcast_shapes(c.shape[:-1], s.shape[:-1])
        z = torch.cat([c.expand(*shape, self.content_dim), s.expand(*shape, self.style_dim)], -1)
        return self.likelihood.mean(self.decoder(z))

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """Decode each image's own content and style posterior means."""
        rep = self.representation(x)
        return self.decode(rep["c"], rep["s"])

    def generate(self, num_samples: int) -> torch.Tensor:
        """Decode c ~ p(c), s ~ p(s)."""
        c = self.content_prior().sample((num_samples,))
        s = self.style_prior().sample((num_samples,))
        return self.decode(c, s)

    def measures(self, splits: Any, split: str = "test",
                 request: MeasureRequest | None = None) -> dict[str, Any]:
        """Content and style probes, accumulated-evidence probes, held-out-group figures."""
        from pyro_vaes.models.mlvae.measures import mlvae_measures

        return mlvae_measures(self, splits, split, request)
