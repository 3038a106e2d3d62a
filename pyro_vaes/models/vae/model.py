"""VAE and beta-VAE as a Pyro model/guide pair (docs/models/vae.md).

Generative story::

    for n in plate("data", B):
        z_n ~ p(z)                    # prior (standard Normal or learnable mixture)
        x_n ~ p(x | f_theta(z_n))     # likelihood (Bernoulli, Laplace or Normal)

Guide::

    for n in plate("data", B):
        z_n ~ q(z | g_phi(x_n))        # guide family (diagonal, low-rank, full, flow)

The beta-VAE multiplies log p(z) and log q(z | x) by beta with ``poutine.scale``
in both the model and the guide, so the ELBO's KL term is scaled and nothing else.
"""

from __future__ import annotations

from typing import Any

import pyro
import torch
from pyro import poutine
from torch import nn

from pyro_vaes.errors import ConfigError
from pyro_vaes.guides import build_guide
from pyro_vaes.likelihoods import build_likelihood
from pyro_vaes.models.base import Batch, DataInfo, LatentVariableModel
from pyro_vaes.models.vae.config import VAEConfig
from pyro_vaes.priors import build_prior


class VAE(LatentVariableModel):
    """z ~ p(z), x ~ p(x | z); q(z | x) amortised by an encoder."""

    name = "vae"
    description = "VAE / beta-VAE (--beta): z ~ p(z), x ~ p(x | z)"
    config_class = VAEConfig

    def __init__(self, config: VAEConfig, data_info: DataInfo, *,
                 encoder: nn.Module | None = None, decoder: nn.Module | None = None) -> None:
        super().__init__(config, data_info)
        self.encoder = encoder if encoder is not None else self.build_encoder()
        feature_dim = getattr(self.encoder, "feature_dim", config.hidden_dim)
        self.decoder = decoder if decoder is not None else self.build_decoder(config.latent_dim)
        self.prior = build_prior(config.prior, config.latent_dim,
                                 mixture_components=config.mixture_components)
        self.posterior = build_guide(config.guide, feature_dim, config.latent_dim,
                                     guide_rank=config.guide_rank, flow_layers=config.flow_layers)
        self.likelihood = build_likelihood(config.likelihood)

    @classmethod
    def check_compatible(cls, config: Any, elbo: str | None = None,
                         data_info: DataInfo | None = None) -> None:
        """Also refuse a flow guide on a 1-D latent and a low-rank guide of a rank above the
        latent size."""
        super().check_compatible(config, elbo, data_info)
        if config.guide == "flow" and config.latent_dim < 2:
            raise ConfigError("guide 'flow' needs --latent-dim of at least 2; "
                              "use --guide diagonal for a 1-D latent")
        if config.guide == "lowrank" and config.guide_rank > config.latent_dim:
            raise ConfigError(f"--guide-rank {config.guide_rank} is larger than --latent-dim "
                              f"{config.latent_dim} (a rank of --latent-dim already gives a "
                              f"full covariance); give --guide-rank of at most "
                              f"{config.latent_dim}, or --guide full")

    def check_jit(self) -> None:
        """The compiled low-rank guide draws other noise than the eager one."""
        if self.config.guide == "lowrank":
            raise ConfigError("--jit with --guide lowrank: the compiled low-rank guide draws "
                              "other noise than the eager one; use another --guide or leave "
                              "--jit out")

    def model(self, x: torch.Tensor) -> None:
        """z ~ p(z); x ~ p(x | z)."""
        with pyro.plate("data", x.shape[0]):
            with poutine.scale(scale=self.config.beta):
                z = pyro.sample("z", self.prior())
            pyro.sample("x", self.likelihood(self.decoder(z)), obs=x)

    def guide(self, x: torch.Tensor) -> None:
        """z ~ q(z | x)."""
        with pyro.plate("data", x.shape[0]):
            with poutine.scale(scale=self.config.beta):
                pyro.sample("z", self.posterior(self.encoder(x)))

    def objective_terms(self, elbo: Any, batch: Batch) -> dict[str, torch.Tensor]:
        """With beta != 1 the training objective is the beta-weighted bound
        E[log p(x|z)] - beta KL, reported as ``beta_weighted_elbo``."""
        if self.config.beta == 1.0:
            return {}
        return {"beta_weighted_elbo": -self.loss(elbo, batch)}

    def posterior_distribution(self, x: torch.Tensor) -> pyro.distributions.TorchDistribution:
        """q(z | x) for a batch of images."""
        return self.posterior(self.encoder(x))

    def posterior_mean(self, x: torch.Tensor) -> torch.Tensor:
        """E_q[z | x]; for the flow guide, a Monte Carlo mean of 64 samples."""
        q = self.posterior_distribution(x)
        try:
            return q.mean
        except NotImplementedError:
            return q.sample((64,)).mean(0)

    def representation(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """{"z": posterior mean}."""
        return {"z": self.posterior_mean(x)}

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Mean image E[x | z]."""
        return self.likelihood.mean(self.decoder(z))

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """Decode the posterior mean of x."""
        return self.decode(self.posterior_mean(x))

    def generate(self, num_samples: int) -> torch.Tensor:
        """Decode z ~ p(z)."""
        return self.decode(self.prior().sample((num_samples,)))
