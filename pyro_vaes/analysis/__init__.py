"""What a trained encoder's latents learned: per-latent mutual information and
disentanglement metrics, all pure functions of arrays.

The names below load on first use, so that a module of this package that needs
neither scikit-learn nor the metrics (``measure_request``, imported by every model)
does not pay for them: ``pyro-vaes train`` reaches its first step sooner.
"""

from __future__ import annotations

from pyro_vaes.lazy import lazy_exports

_METRICS = ("DCIScores", "MIGScores", "SAPScores", "beta_vae_score", "dci",
            "dci_disentanglement", "factor_vae_score", "mig", "mig_continuous",
            "mig_continuous_scores", "mig_scores", "sap", "sap_scores")
_MUTUAL_INFORMATION = ("MutualInformationReport", "active_units",
                       "gaussian_mixture_log_density", "kl_to_standard_normal",
                       "mixture_mutual_information", "moment_matched_mutual_information",
                       "mutual_information_report", "posterior_mean_variance")
_WHERE = {**{name: "pyro_vaes.analysis.metrics" for name in _METRICS},
          **{name: "pyro_vaes.analysis.mutual_information" for name in _MUTUAL_INFORMATION}}
__getattr__, __dir__ = lazy_exports(__name__, _WHERE)


__all__ = sorted(_WHERE)
