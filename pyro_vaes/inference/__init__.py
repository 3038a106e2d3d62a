"""ELBO estimators, the loss module, and importance-weighted likelihood estimates."""

from pyro_vaes.inference.elbo import (
    ELBO_CLASSES,
    ELBO_DESCRIPTIONS,
    SVIObjective,
    make_elbo,
    negative_elbo,
)
from pyro_vaes.inference.importance import (
    chunked_log_importance_weights,
    elbo_and_log_likelihood,
    importance_log_likelihood,
    log_importance_weights,
)

__all__ = ["ELBO_CLASSES", "ELBO_DESCRIPTIONS", "SVIObjective", "chunked_log_importance_weights",
           "elbo_and_log_likelihood", "importance_log_likelihood", "log_importance_weights",
           "make_elbo", "negative_elbo"]
