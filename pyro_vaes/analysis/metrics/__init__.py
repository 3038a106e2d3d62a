"""Disentanglement metrics as pure functions of (representation (N, D), factors (N, F)).

Each computes by default the published definition as disentanglement_lib 1.5
computes it; the module docstrings name the reference function and the
project's earlier variants, which stay available as options.
"""

from pyro_vaes.analysis.metrics.beta_vae import beta_vae_score
from pyro_vaes.analysis.metrics.dci import DCIScores, dci, dci_disentanglement
from pyro_vaes.analysis.metrics.explicitness import explicitness
from pyro_vaes.analysis.metrics.factor_vae import factor_vae_score
from pyro_vaes.analysis.metrics.irs import irs
from pyro_vaes.analysis.metrics.mig import (
    MIGScores,
    mig,
    mig_continuous,
    mig_continuous_scores,
    mig_scores,
)
from pyro_vaes.analysis.metrics.modularity import modularity, modularity_from_mutual_information
from pyro_vaes.analysis.metrics.sap import SAPScores, sap, sap_scores
from pyro_vaes.analysis.metrics.unsupervised import (
    gaussian_total_correlation,
    mean_pairwise_mutual_information,
)

__all__ = ["DCIScores", "MIGScores", "SAPScores", "beta_vae_score", "dci", "dci_disentanglement",
           "explicitness", "factor_vae_score", "gaussian_total_correlation", "irs",
           "mean_pairwise_mutual_information", "mig", "mig_continuous", "mig_continuous_scores",
           "mig_scores", "modularity", "modularity_from_mutual_information", "sap", "sap_scores"]
