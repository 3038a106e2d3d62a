"""Unsupervised scores of a representation (Locatello et al. 2019): no factors needed.

Both follow disentanglement_lib's ``unsupervised_metrics.unsupervised_metrics``.
They take ``factors`` only for the common calling convention and ignore it.
Lower is better for both: 0 for independent latents.

- Gaussian total correlation: the KL divergence from the Gaussian with the
  representation's covariance C to the product of its marginals,
  TC = 1/2 (sum_j log C_jj - log det C). Evaluated on samples z ~ q(z|x) it is
  "the total correlation of the sampled representation" of the paper.
- Mean pairwise mutual information: each latent cut into ``num_bins``
  equal-width bins; the mean over pairs j != l of the plug-in I(z_j; z_l) (nats).

Latents with zero variance are independent of everything: they are left out of
the total correlation (the reference returns nan for them) and have zero mutual
information. Perfectly correlated latents make C singular: TC = inf.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pyro_vaes.analysis.metrics._discretize import equal_width_bins, mutual_information_matrix
from pyro_vaes.analysis.metrics._inputs import as_representation
from pyro_vaes.errors import ConfigError


def gaussian_total_correlation(representation: Any, factors: Any = None) -> float:
    """Total correlation (nats) of a Gaussian with the representation's covariance."""
    rep = as_representation(representation)
    rep = rep[:, rep.var(axis=0) > 0]
    if rep.shape[1] < 2:
        return 0.0
    cov = np.cov(rep, rowvar=False)
    sign, log_det = np.linalg.slogdet(cov)
    if sign <= 0 or not np.isfinite(log_det):
        return float("inf")
    return float(0.5 * (np.log(np.diag(cov)).sum() - log_det))


def mean_pairwise_mutual_information(representation: Any, factors: Any = None, *,
                                     num_bins: int = 20) -> float:
    """Mean over latent pairs j != l of the binned I(z_j; z_l), in nats."""
    if num_bins < 2:
        raise ConfigError(f"num_bins must be at least 2; got {num_bins}")
    rep = as_representation(representation)
    if rep.shape[1] < 2:
        return 0.0
    binned = equal_width_bins(rep, num_bins)
    matrix = mutual_information_matrix(binned, binned)
    np.fill_diagonal(matrix, 0.0)
    return float(matrix.sum() / (rep.shape[1] ** 2 - rep.shape[1]))
