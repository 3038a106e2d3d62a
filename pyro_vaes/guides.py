"""Guide families: amortised q(z | x) built from encoder features.

A guide family is an ``nn.Module`` mapping features h (B, F) to a Pyro
distribution over z with batch shape (B,) and event shape (D,):

- ``diagonal``: N(mu(h), diag sigma(h)^2)
- ``lowrank``:  N(mu(h), W(h) W(h)^T + diag d(h)), W of rank r
- ``full``:     N(mu(h), L(h) L(h)^T), L lower triangular with positive diagonal
- ``flow``:     a diagonal Normal pushed through K inverse-autoregressive
  affine flows from ``pyro.distributions.transforms`` (shared across x)
"""

from __future__ import annotations

import pyro.distributions as dist
import pyro.distributions.transforms as T
import torch
import torch.nn.functional as F
from torch import nn

from pyro_vaes.descriptions import GUIDE_DESCRIPTIONS  # noqa: F401 (exported)

MIN_SCALE = 1e-4


def positive(raw: torch.Tensor) -> torch.Tensor:
    """softplus(raw) + 1e-4: a positive scale from an unconstrained output."""
    return F.softplus(raw) + MIN_SCALE


class DiagonalNormalGuide(nn.Module):
    """q(z | x) = N(mu(h), diag sigma(h)^2)."""

    def __init__(self, feature_dim: int, latent_dim: int) -> None:
        super().__init__()
        self.loc = nn.Linear(feature_dim, latent_dim)
        self.raw_scale = nn.Linear(feature_dim, latent_dim)

    def loc_scale(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The mean and standard deviation of each latent dimension."""
        return self.loc(h), positive(self.raw_scale(h))

    def forward(self, h: torch.Tensor) -> dist.TorchDistribution:
        loc, scale = self.loc_scale(h)
        return dist.Normal(loc, scale).to_event(1)


class LowRankNormalGuide(nn.Module):
    """q(z | x) = N(mu(h), W(h) W(h)^T + diag d(h)) with W of shape (D, rank)."""

    def __init__(self, feature_dim: int, latent_dim: int, rank: int = 2) -> None:
        super().__init__()
        self.latent_dim, self.rank = latent_dim, rank
        self.loc = nn.Linear(feature_dim, latent_dim)
        self.factor = nn.Linear(feature_dim, latent_dim * rank)
        self.raw_diag = nn.Linear(feature_dim, latent_dim)

    def forward(self, h: torch.Tensor) -> dist.TorchDistribution:
        factor = self.factor(h).reshape(*h.shape[:-1], self.latent_dim, self.rank)
        return dist.LowRankMultivariateNormal(self.loc(h), factor, positive(self.raw_diag(h)) ** 2)


class FullCovarianceNormalGuide(nn.Module):
    """q(z | x) = N(mu(h), L(h) L(h)^T), L lower triangular with softplus diagonal."""

    def __init__(self, feature_dim: int, latent_dim: int) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.loc = nn.Linear(feature_dim, latent_dim)
        self.tril = nn.Linear(feature_dim, latent_dim * latent_dim)
        self.register_buffer("diag_mask", torch.eye(latent_dim, dtype=torch.bool))

    def forward(self, h: torch.Tensor) -> dist.TorchDistribution:
        raw = self.tril(h).reshape(*h.shape[:-1], self.latent_dim, self.latent_dim).tril()
        scale_tril = torch.where(self.diag_mask, positive(raw), raw)
        return dist.MultivariateNormal(self.loc(h), scale_tril=scale_tril)


class FlowGuide(nn.Module):
    """A diagonal Normal base q0(z | x) pushed through ``num_flows`` affine
    autoregressive transforms (inverse autoregressive flow: sampling and the
    log-density of its own samples are both one pass)."""

    def __init__(self, feature_dim: int, latent_dim: int, num_flows: int = 2,
                 hidden_dim: int | None = None) -> None:
        super().__init__()
        self.base = DiagonalNormalGuide(feature_dim, latent_dim)
        hidden = [hidden_dim or max(2 * latent_dim, 16)]
        self.flows = nn.ModuleList(
            T.affine_autoregressive(latent_dim, hidden_dims=hidden) for _ in range(num_flows)
        )

    def forward(self, h: torch.Tensor) -> dist.TorchDistribution:
        return dist.TransformedDistribution(self.base(h), list(self.flows))


GUIDES: dict[str, type[nn.Module]] = {
    "diagonal": DiagonalNormalGuide,
    "lowrank": LowRankNormalGuide,
    "full": FullCovarianceNormalGuide,
    "flow": FlowGuide,
}


def build_guide(name: str, feature_dim: int, latent_dim: int, *, guide_rank: int = 2,
                flow_layers: int = 2) -> nn.Module:
    """Build a guide family by name (see ``GUIDES``)."""
    if name == "lowrank":
        return LowRankNormalGuide(feature_dim, latent_dim, guide_rank)
    if name == "flow":
        return FlowGuide(feature_dim, latent_dim, flow_layers)
    return GUIDES[name](feature_dim, latent_dim)
