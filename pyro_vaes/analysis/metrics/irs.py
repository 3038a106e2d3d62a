"""IRS, the Interventional Robustness Score (Suter et al. 2019).

Latents with zero variance are dropped (none left: IRS = 0). With
m_j = max_n |z_nj - mean(z_j)| and, per factor v_k and level v,
d_jkv = the ``quantile`` of |z_nj - E[z_j | v_k = v]| over the points with v_k = v:

    IRS_jk = 1 - mean_v d_jkv / m_j      (levels weighted equally)
    IRS    = sum_j m_j max_k IRS_jk / sum_j m_j

as disentanglement_lib's ``irs.compute_irs`` / ``scalable_disentanglement_score``
computes it: ``quantile=0.99`` (the paper's version is 1.0, the maximum), and the
factors first re-binned into ``factor_bins=20`` equal-width histogram bins of
their level indices (a factor with more than 21 levels then has some levels
merged; pass ``factor_bins=None`` to use the levels as given).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pyro_vaes.analysis.metrics._discretize import histogram_bins
from pyro_vaes.analysis.metrics._inputs import as_factors, as_representation
from pyro_vaes.errors import ConfigError


def irs(representation: Any, factors: Any, *, quantile: float = 0.99,
        factor_bins: int | None = 20) -> float:
    """Interventional Robustness Score in [0, 1] (see module doc)."""
    if not 0.0 <= quantile <= 1.0:
        raise ConfigError(f"quantile must lie in [0, 1]; got {quantile}")
    if factor_bins is not None and factor_bins < 1:
        raise ConfigError(f"factor_bins must be at least 1 or None; got {factor_bins}")
    rep = as_representation(representation)
    fac = as_factors(factors, rep.shape[0])
    rep = rep[:, rep.var(axis=0) > 0]
    if rep.shape[1] == 0:
        return 0.0
    groups = fac if factor_bins is None else histogram_bins(fac.astype(np.float64), factor_bins)
    max_deviation = np.abs(rep - rep.mean(axis=0)).max(axis=0)
    deviation = np.zeros((rep.shape[1], fac.shape[1]))
    for k in range(fac.shape[1]):
        levels = np.unique(groups[:, k])
        for level in levels.tolist():
            members = rep[groups[:, k] == level]
            spread = np.abs(members - members.mean(axis=0))
            deviation[:, k] += np.quantile(spread, quantile, axis=0)
        deviation[:, k] /= levels.shape[0]
    per_latent = (1.0 - deviation / max_deviation[:, None]).max(axis=1)
    return float(np.average(per_latent, weights=max_deviation))
