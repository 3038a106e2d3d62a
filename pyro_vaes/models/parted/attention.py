"""Per-class sigmoid attention over the guide's shared features.

Class k owns a weight vector W_k over the F features of the trunk; its mask is
a_k = sigmoid(slope * W_k) in (0, 1)^F. The class-related latent u reads only
the masked features h * a_c; a larger slope pushes the mask towards 0/1.
"""

from __future__ import annotations

import torch
from torch import nn


class ClassAttention(nn.Module):
    """a = sigmoid(slope * W_c): one learnable mask over ``feature_dim`` features per class."""

    def __init__(self, num_classes: int, feature_dim: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(num_classes, feature_dim))

    def mask(self, c: torch.Tensor, slope: float | torch.Tensor) -> torch.Tensor:
        """The masks of classes c (any shape of int64 indices), shape (*c.shape, F)."""
        return torch.sigmoid(slope * self.weight[c])

    def forward(self, h: torch.Tensor, c: torch.Tensor,
                slope: float | torch.Tensor) -> torch.Tensor:
        """h * a_c; h (..., F) broadcasts against the masks (*c.shape, F)."""
        return h * self.mask(c, slope)
