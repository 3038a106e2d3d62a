"""The FactorVAE disentanglement score (Kim & Mnih 2018).

One vote: draw a factor k and a level of it (through a random anchor point), take
``batch_size`` points sharing that level (see ``_interventions``), divide each
latent by its standard deviation over the whole data set and record the latent
with the smallest variance across the batch. Latents whose global variance is
at most ``variance_threshold`` (collapsed) are pruned first. A majority-vote
classifier maps each latent to the factor it was most often voted for on
``num_train`` votes; the score is its accuracy on ``num_eval`` fresh votes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pyro_vaes.analysis.metrics._inputs import as_factors, as_representation
from pyro_vaes.analysis.metrics._interventions import FactorGroups
from pyro_vaes.errors import ConfigError


def _votes(normalised: np.ndarray, groups: FactorGroups, num_votes: int, batch_size: int,
           rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(argmin-variance latent, fixed factor) for ``num_votes`` fixed-factor batches."""
    factors = groups.sample_factors(num_votes, rng)
    anchors = rng.integers(normalised.shape[0], size=num_votes)
    latents = np.zeros(num_votes, dtype=np.int64)
    if normalised.shape[1] == 0:
        return latents, factors
    for k in np.unique(factors).tolist():
        rows = np.flatnonzero(factors == k)
        batch = groups.same_level(k, anchors[rows], batch_size, rng)
        latents[rows] = normalised[batch].var(axis=1).argmin(axis=1)
    return latents, factors


def factor_vae_score(representation: Any, factors: Any, *, batch_size: int = 64,
                     num_train: int = 800, num_eval: int = 400, seed: int = 0,
                     variance_threshold: float = 0.05) -> float:
    """FactorVAE score in [0, 1]: eval accuracy of the majority-vote classifier."""
    if batch_size < 2 or num_train < 1 or num_eval < 1:
        raise ConfigError("batch_size must be at least 2 and num_train, num_eval at least 1")
    rep = as_representation(representation)
    fac = as_factors(factors, rep.shape[0])
    groups = FactorGroups(fac)
    rng = np.random.default_rng(seed)
    std = rep.std(axis=0)
    active = std**2 > variance_threshold
    normalised = rep[:, active] / std[active]
    train_latents, train_factors = _votes(normalised, groups, num_train, batch_size, rng)
    votes = np.zeros((max(1, normalised.shape[1]), fac.shape[1]), dtype=np.int64)
    np.add.at(votes, (train_latents, train_factors), 1)
    classifier = votes.argmax(axis=1)
    eval_latents, eval_factors = _votes(normalised, groups, num_eval, batch_size, rng)
    return float(np.mean(classifier[eval_latents] == eval_factors))
