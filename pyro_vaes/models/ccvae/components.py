"""The two pieces that tie labels to characteristic latents.

- :class:`ConditionalPrior` p(z_c | y): per latent two learnable (mean, scale)
  pairs, one for "the label is on" (y_i = 1, or y == k) and one for "off".
- :class:`DiagonalClassifier` q(y | z_c): label i sees only its own latent,
  logits_i = w_i z_c,i + b_i (Bernoulli per label, or a softmax over the K
  diagonal logits for one K-class label).
"""

from __future__ import annotations

import math

import pyro.distributions as dist
import torch
import torch.nn.functional as F
from torch import nn

MIN_PRIOR_SCALE = 1e-3


class ConditionalPrior(nn.Module):
    """p(z_c,i | t_i) = N(m_i(t_i), s_i(t_i)), t_i in {0, 1} the fact latent i sees.

    Row 0 of ``loc``/``raw_scale`` is the "off" pair, row 1 the "on" pair. The
    means start at -1 and +1 (the two modes apart from the first step), the
    scales at 1; scale = softplus(raw) clamped at >= 1e-3.
    """

    def __init__(self, size: int) -> None:
        super().__init__()
        self.loc = nn.Parameter(torch.stack([-torch.ones(size), torch.ones(size)]))
        self.raw_scale = nn.Parameter(torch.full((2, size), math.log(math.expm1(1.0))))

    def scales(self) -> torch.Tensor:
        """The scales s_i(t) as a (2, L) table."""
        return F.softplus(self.raw_scale).clamp(min=MIN_PRIOR_SCALE)

    def forward(self, on: torch.Tensor) -> dist.Normal:
        """Normal over z_c with batch shape ``on.shape`` (..., L)."""
        on = on > 0.5
        scales = self.scales()
        return dist.Normal(torch.where(on, self.loc[1], self.loc[0]),
                           torch.where(on, scales[1], scales[0]))


class DiagonalClassifier(nn.Module):
    """q(y | z_c) with logits_i = w_i z_c,i + b_i (w starts at 1, b at 0)."""

    def __init__(self, size: int, multiclass: bool) -> None:
        super().__init__()
        self.multiclass = multiclass
        self.weight = nn.Parameter(torch.ones(size))
        self.bias = nn.Parameter(torch.zeros(size))

    def logits(self, z_c: torch.Tensor) -> torch.Tensor:
        """The diagonal logits (..., L)."""
        return z_c * self.weight + self.bias

    def forward(self, z_c: torch.Tensor) -> dist.TorchDistribution:
        """Categorical of batch shape (..., 1) over K classes, or Bernoulli of batch (..., L)."""
        if self.multiclass:
            return dist.Categorical(logits=self.logits(z_c).unsqueeze(-2))
        return dist.Bernoulli(logits=self.logits(z_c))

    def log_prob(self, y: torch.Tensor, z_c: torch.Tensor) -> torch.Tensor:
        """log q(y | z_c) summed over labels, (...,) per datum; ``y`` as the ``y`` site holds it."""
        return self(z_c).log_prob(y).sum(-1)

    def predict(self, z_c: torch.Tensor) -> torch.Tensor:
        """Most probable labels: class indices (...,) or 0/1 attributes (..., L)."""
        logits = self.logits(z_c)
        if self.multiclass:
            return logits.argmax(-1)
        return (logits > 0).to(z_c.dtype)
