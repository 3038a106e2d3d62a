"""Bhattacharyya overlap between diagonal Gaussians, and the hinge penalty on it.

For N(m1, S1) and N(m2, S2) with diagonal covariances and S = (S1 + S2) / 2::

    D_B = 1/8 (m1 - m2)^T S^-1 (m1 - m2) + 1/2 [ sum log S - 1/2 (sum log S1 + sum log S2) ]
    BC  = exp(-D_B) = integral sqrt(p(x) q(x)) dx          (1 for identical Gaussians)

The penalty of the class-related VAE (docs/models/parted.md) pushes the prior's
components apart until every pair overlaps by at most ``tau``::

    penalty = sum_{i < j} max(0, BC_ij - tau)
"""

from __future__ import annotations

import torch


def bhattacharyya_distance(mean1: torch.Tensor, var1: torch.Tensor, mean2: torch.Tensor,
                           var2: torch.Tensor) -> torch.Tensor:
    """D_B between diagonal Gaussians; inputs (..., D) broadcast, output (...)."""
    var = 0.5 * (var1 + var2)
    mahalanobis = ((mean1 - mean2) ** 2 / var).sum(-1)
    log_det = var.log().sum(-1) - 0.5 * (var1.log().sum(-1) + var2.log().sum(-1))
    return mahalanobis / 8.0 + 0.5 * log_det


def bhattacharyya_coefficient(mean1: torch.Tensor, var1: torch.Tensor, mean2: torch.Tensor,
                              var2: torch.Tensor) -> torch.Tensor:
    """BC = exp(-D_B) in (0, 1]; inputs (..., D) broadcast, output (...)."""
    return torch.exp(-bhattacharyya_distance(mean1, var1, mean2, var2))


def pairwise_bhattacharyya(means: torch.Tensor, variances: torch.Tensor) -> torch.Tensor:
    """The (K, K) matrix of BC between the K components given as means, variances (K, D)."""
    return bhattacharyya_coefficient(means.unsqueeze(1), variances.unsqueeze(1),
                                     means.unsqueeze(0), variances.unsqueeze(0))


def upper_pairs(matrix: torch.Tensor) -> torch.Tensor:
    """The entries above the diagonal of a (K, K) matrix: one per unordered pair, (K(K-1)/2,)."""
    rows, cols = torch.triu_indices(matrix.shape[0], matrix.shape[1], offset=1,
                                    device=matrix.device)
    return matrix[rows, cols]


def bhattacharyya_hinge(means: torch.Tensor, variances: torch.Tensor,
                        tau: float) -> torch.Tensor:
    """sum_{i<j} max(0, BC_ij - tau): zero once every pair overlaps by at most ``tau``."""
    pairs = upper_pairs(pairwise_bhattacharyya(means, variances))
    return torch.clamp(pairs - tau, min=0.0).sum()


__all__ = ["bhattacharyya_coefficient", "bhattacharyya_distance", "bhattacharyya_hinge",
           "pairwise_bhattacharyya", "upper_pairs"]
