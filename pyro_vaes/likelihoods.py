"""Observation models p(x | z) over images with pixels in [0, 1].

A likelihood maps the decoder's output o (..., C, H, W) to a distribution
with event shape (C, H, W):

- ``bernoulli``: Bernoulli(logits = o). Grey levels are used as soft targets,
  log p = sum x log s(o) + (1 - x) log(1 - s(o)); support checks are off for
  that reason.
- ``laplace``:   Laplace(mean = link(o), scale = 1)
- ``normal``:    Normal(mean = link(o), scale = sigma), one learned scalar sigma

``link`` is the sigmoid (pixels lie in [0, 1]) or the identity.
"""

from __future__ import annotations

import math

import pyro.distributions as dist
import torch
from torch import nn

from pyro_vaes.descriptions import LIKELIHOOD_DESCRIPTIONS  # noqa: F401 (exported)

LINKS = {"sigmoid": torch.sigmoid, "identity": lambda o: o}


class BernoulliLikelihood(nn.Module):
    """x ~ Bernoulli(logits = o), grey levels as soft targets."""

    def forward(self, output: torch.Tensor) -> dist.TorchDistribution:
        return dist.Bernoulli(logits=output, validate_args=False).to_event(3)

    def mean(self, output: torch.Tensor) -> torch.Tensor:
        """E[x | z]."""
        return torch.sigmoid(output)


class LaplaceLikelihood(nn.Module):
    """x ~ Laplace(link(o), 1)."""

    def __init__(self, link: str = "sigmoid") -> None:
        super().__init__()
        self.link = link

    def forward(self, output: torch.Tensor) -> dist.TorchDistribution:
        loc = LINKS[self.link](output)
        return dist.Laplace(loc, torch.ones_like(loc)).to_event(3)

    def mean(self, output: torch.Tensor) -> torch.Tensor:
        """E[x | z]."""
        return LINKS[self.link](output)


class SharedScaleNormal(dist.Normal):
    """Normal(loc, scale) with one scale for every element.

    The same distribution as ``dist.Normal(loc, scale)``; ``log_prob`` uses the
    scalar scale as it is, instead of the broadcast tensor, so log(scale) and
    scale^2 are one number each rather than one per pixel (a large part of a
    small net's step, forward and backward).
    """

    def __init__(self, loc: torch.Tensor, scale: torch.Tensor) -> None:
        super().__init__(loc, scale, validate_args=False)
        self.shared_scale = scale

    def expand(self, batch_shape: torch.Size, _instance: object = None) -> SharedScaleNormal:
        return SharedScaleNormal(self.loc.expand(batch_shape), self.shared_scale)

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        scale = self.shared_scale
        return (-0.5 * ((value - self.loc) / scale) ** 2 - scale.log()
                - 0.5 * math.log(2 * math.pi))


class NormalLikelihood(nn.Module):
    """x ~ Normal(link(o), sigma) with one learned scalar sigma (starts at ``init_scale``)."""

    def __init__(self, link: str = "sigmoid", init_scale: float = 0.1) -> None:
        super().__init__()
        self.link = link
        self.log_scale = nn.Parameter(torch.tensor(float(init_scale)).log())

    def forward(self, output: torch.Tensor) -> dist.TorchDistribution:
        return SharedScaleNormal(LINKS[self.link](output), self.log_scale.exp()).to_event(3)

    def mean(self, output: torch.Tensor) -> torch.Tensor:
        """E[x | z]."""
        return LINKS[self.link](output)


LIKELIHOODS: dict[str, type[nn.Module]] = {
    "bernoulli": BernoulliLikelihood,
    "laplace": LaplaceLikelihood,
    "normal": NormalLikelihood,
}


def build_likelihood(name: str) -> nn.Module:
    """Build a likelihood by name (see ``LIKELIHOODS``)."""
    return LIKELIHOODS[name]()
