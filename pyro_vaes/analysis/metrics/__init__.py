"""Disentanglement metrics as pure functions of (representation (N, D), factors (N, F))."""

from pyro_vaes.analysis.metrics.beta_vae import beta_vae_score
from pyro_vaes.analysis.metrics.dci import DCIScores, dci, dci_disentanglement
from pyro_vaes.analysis.metrics.factor_vae import factor_vae_score
from pyro_vaes.analysis.metrics.mig import (
    MIGScores,
    mig,
    mig_continuous,
    mig_continuous_scores,
    mig_scores,
)
from pyro_vaes.analysis.metrics.sap import SAPScores, sap, sap_scores

__all__ = ["DCIScores", "MIGScores", "SAPScores", "beta_vae_score", "dci", "dci_disentanglement",
           "factor_vae_score", "mig", "mig_continuous", "mig_continuous_scores", "mig_scores",
           "sap", "sap_scores"]
