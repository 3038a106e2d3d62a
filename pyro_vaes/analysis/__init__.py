"""What a trained encoder's latents learned: per-latent mutual information and
disentanglement metrics, all pure functions of arrays."""

from pyro_vaes.analysis.metrics import (
    DCIScores,
    MIGScores,
    SAPScores,
    beta_vae_score,
    dci,
    dci_disentanglement,
    factor_vae_score,
    mig,
    mig_continuous,
    mig_continuous_scores,
    mig_scores,
    sap,
    sap_scores,
)
from pyro_vaes.analysis.mutual_information import (
    MutualInformationReport,
    active_units,
    gaussian_mixture_log_density,
    kl_to_standard_normal,
    mixture_mutual_information,
    moment_matched_mutual_information,
    mutual_information_report,
    posterior_mean_variance,
)

__all__ = ["DCIScores", "MIGScores", "MutualInformationReport", "SAPScores", "active_units",
           "beta_vae_score", "dci", "dci_disentanglement", "factor_vae_score",
           "gaussian_mixture_log_density", "kl_to_standard_normal", "mig", "mig_continuous",
           "mig_continuous_scores", "mig_scores", "mixture_mutual_information",
           "moment_matched_mutual_information", "mutual_information_report",
           "posterior_mean_variance", "sap", "sap_scores"]
