"""Priors over a latent vector z in R^D.

A prior is an ``nn.Module`` whose ``forward()`` returns a Pyro distribution
with event shape (D,) and empty batch shape; the ``"data"`` plate broadcasts it.
Its learnable parameters (if any) live in the module, so they are part of the
model's ``state_dict``.
"""

from __future__ import annotations

import math

import pyro.distributions as dist
import torch
from torch import nn

from pyro_vaes.descriptions import PRIOR_DESCRIPTIONS  # noqa: F401 (exported)


class StandardNormalPrior(nn.Module):
    """p(z) = N(0, I)."""

    def __init__(self, latent_dim: int) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.register_buffer("loc", torch.zeros(latent_dim))
        self.register_buffer("scale", torch.ones(latent_dim))

    def forward(self) -> dist.TorchDistribution:
        return dist.Normal(self.loc, self.scale).to_event(1)


def bounded_log_variance(raw: torch.Tensor) -> torch.Tensor:
    """log sigma^2 = 2 tanh(raw) - 1, which keeps every variance in [e^-3, e^1]."""
    return 2.0 * torch.tanh(raw) - 1.0


class GaussianMixturePrior(nn.Module):
    """p(z) = sum_k pi_k N(z; m_k, diag(sigma_k^2)), every parameter learnable.

    Means start spread as N(0, I) draws; log-variances are bounded through
    :func:`bounded_log_variance` (start at log sigma^2 = 0); mixing logits start
    uniform. ``learn_weights=False`` keeps pi fixed at 1/K.
    """

    def __init__(self, latent_dim: int, num_components: int = 10, learn_weights: bool = True,
                 init_spread: float = 1.0) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.num_components = num_components
        generator = torch.Generator().manual_seed(0)
        means = init_spread * torch.randn(num_components, latent_dim, generator=generator)
        self.means = nn.Parameter(means)
        # atanh(0.5) gives log sigma^2 = 2 * 0.5 - 1 = 0 at the start.
        self.raw_log_variances = nn.Parameter(torch.full((num_components, latent_dim),
                                                         math.atanh(0.5)))
        logits = torch.zeros(num_components)
        if learn_weights:
            self.logits = nn.Parameter(logits)
        else:
            self.register_buffer("logits", logits)

    @property
    def scales(self) -> torch.Tensor:
        """Per-component standard deviations (K, D)."""
        return torch.exp(0.5 * bounded_log_variance(self.raw_log_variances))

    def components(self) -> dist.TorchDistribution:
        """The K diagonal Gaussians as one distribution of batch shape (K,), event (D,)."""
        return dist.Normal(self.means, self.scales).to_event(1)

    def forward(self) -> dist.TorchDistribution:
        return dist.MixtureSameFamily(dist.Categorical(logits=self.logits), self.components())


PRIORS: dict[str, type[nn.Module]] = {
    "normal": StandardNormalPrior,
    "mixture": GaussianMixturePrior,
}


def build_prior(name: str, latent_dim: int, *, mixture_components: int = 10) -> nn.Module:
    """Build a prior by name (see ``PRIORS``)."""
    if name == "mixture":
        return GaussianMixturePrior(latent_dim, mixture_components)
    return PRIORS[name](latent_dim)
