"""All disentanglement metrics for a model's latents on data with known factors."""

from __future__ import annotations

from typing import Any

import torch

from pyro_vaes.analysis.influence import LatentAnalysis
from pyro_vaes.analysis.metrics import (
    beta_vae_score,
    dci,
    factor_vae_score,
    mig,
    mig_continuous,
    sap,
)
from pyro_vaes.errors import ConfigError


def disentanglement_scores(analysis: LatentAnalysis, factors: torch.Tensor | None, *,
                           seed: int = 0) -> dict[str, Any]:
    """MIG (continuous and binned), DCI, SAP, FactorVAE and beta-VAE scores of the posterior
    means of every Gaussian latent site against the true factors (N, F)."""
    if factors is None:
        raise ConfigError("disentanglement metrics need a data set with known factors; "
                          "train on --data shapes or shapes-small")
    names = list(analysis.sites)
    loc = torch.cat([analysis.sites[n].loc for n in names], dim=1).double()
    scale = torch.cat([analysis.sites[n].scale for n in names], dim=1).double()
    factors = factors[: loc.shape[0]]
    scores = dci(loc, factors, seed=seed)
    return {
        "latents": int(loc.shape[1]),
        "points": int(loc.shape[0]),
        "mig_continuous": mig_continuous(loc, scale, factors, seed=seed),
        "mig_binned": mig(loc, factors),
        "dci_disentanglement": scores.disentanglement,
        "dci_completeness": scores.completeness,
        "dci_informativeness": scores.informativeness,
        "sap": sap(loc, factors, seed=seed),
        "factor_vae_score": factor_vae_score(loc, factors, seed=seed),
        "beta_vae_score": beta_vae_score(loc, factors, seed=seed),
    }
