"""Modularity (Ridgeway & Zemel 2018): does each latent depend on one factor only?

With m_jk = I(z_j; v_k) (each latent cut into ``num_bins`` equal-width bins,
plug-in MI in nats, as for MIG) and theta_j = max_k m_jk:

    delta_j    = sum_{k != argmax} m_jk^2 / (theta_j^2 (F - 1))
    modularity = mean_j (1 - delta_j),   a latent with theta_j = 0 counting 0

as disentanglement_lib's ``modularity_explicitness.modularity`` computes it (the
reference estimates the MI on its 10,000 training points; here on all points).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pyro_vaes.analysis.metrics._discretize import equal_width_bins, mutual_information_matrix
from pyro_vaes.analysis.metrics._inputs import as_factors, as_representation
from pyro_vaes.errors import ConfigError, DataError


def modularity_from_mutual_information(mutual_information: np.ndarray) -> float:
    """Modularity of a (D, F) matrix of I(z_j; v_k); needs F >= 2."""
    if mutual_information.shape[1] < 2:
        raise DataError("modularity needs at least two factors")
    squared = np.square(mutual_information)
    top = squared.max(axis=1)
    safe = np.where(top > 0, top, 1.0)
    delta = (squared.sum(axis=1) - top) / (safe * (squared.shape[1] - 1))
    return float(np.mean(np.where(top > 0, 1.0 - delta, 0.0)))


def modularity(representation: Any, factors: Any, *, num_bins: int = 20) -> float:
    """Modularity score in [0, 1] from binned mutual information (see module doc)."""
    if num_bins < 2:
        raise ConfigError(f"num_bins must be at least 2; got {num_bins}")
    rep = as_representation(representation)
    fac = as_factors(factors, rep.shape[0])
    mi = mutual_information_matrix(equal_width_bins(rep, num_bins), fac)
    return modularity_from_mutual_information(mi)
