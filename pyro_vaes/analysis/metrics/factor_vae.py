"""The FactorVAE disentanglement score (Kim & Mnih 2018).

One vote: draw a factor k and a level of it (through a random anchor point), take
``batch_size`` points sharing that level (see ``_interventions``), divide each
kept latent by its standard deviation over the whole data set and record the
latent with the smallest variance across the batch. A majority-vote classifier
maps each latent to the factor it was most often voted for on ``num_train``
votes; the score is its accuracy on ``num_eval`` fresh votes.

Collapsed latents are pruned first. ``prune="std"`` (default) follows
disentanglement_lib's ``factor_vae.compute_factor_vae`` with its published
configuration (``prune_dims.threshold = 0.05``, 10,000 training and 5,000
evaluation votes of 64 points): a latent is kept when its standard deviation
(ddof 1) is at least ``threshold``, and a representation with no latent kept
scores 0. ``prune="variance"`` is this project's earlier variant: kept when the
variance (ddof 0) exceeds ``threshold``, and with none kept every vote goes to
one dummy latent (the score is then the share of the most frequent factor,
about 1/F).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from pyro_vaes.analysis.metrics._inputs import as_factors, as_representation
from pyro_vaes.analysis.metrics._interventions import FactorGroups
from pyro_vaes.errors import ConfigError

PruneRule = Literal["std", "variance"]

_CHUNK_VALUES = 1 << 22


def _votes(normalised: np.ndarray, groups: FactorGroups, num_votes: int, batch_size: int,
           rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(argmin-variance latent, fixed factor) for ``num_votes`` fixed-factor batches.

    The random draws are made per factor for all its votes at once; the variances
    are computed in chunks of at most ``_CHUNK_VALUES`` gathered values.
    """
    factors = groups.sample_factors(num_votes, rng)
    anchors = rng.integers(normalised.shape[0], size=num_votes)
    latents = np.zeros(num_votes, dtype=np.int64)
    if normalised.shape[1] == 0:
        return latents, factors
    step = max(1, _CHUNK_VALUES // (batch_size * normalised.shape[1]))
    for k in np.unique(factors).tolist():
        rows = np.flatnonzero(factors == k)
        batch = groups.same_level(k, anchors[rows], batch_size, rng)
        for start in range(0, rows.shape[0], step):
            part = batch[start:start + step]
            latents[rows[start:start + step]] = normalised[part].var(axis=1).argmin(axis=1)
    return latents, factors


def factor_vae_score(representation: Any, factors: Any, *, seed: int = 0,
                     batch_size: int = 64, num_train: int = 10_000, num_eval: int = 5_000,
                     prune: PruneRule = "std", threshold: float = 0.05) -> float:
    """FactorVAE score in [0, 1]: eval accuracy of the majority-vote classifier."""
    if batch_size < 2 or num_train < 1 or num_eval < 1:
        raise ConfigError("batch_size must be at least 2 and num_train, num_eval at least 1")
    if prune not in ("std", "variance"):
        raise ConfigError(f"unknown pruning rule {prune!r}; use 'std' or 'variance'")
    rep = as_representation(representation)
    fac = as_factors(factors, rep.shape[0])
    groups = FactorGroups(fac)
    rng = np.random.default_rng(seed)
    if prune == "std":
        std = rep.std(axis=0, ddof=1) if rep.shape[0] > 1 else np.zeros(rep.shape[1])
        active = std >= threshold
        if not active.any():
            return 0.0
    else:
        std = rep.std(axis=0)
        active = std**2 > threshold
    normalised = rep[:, active] / std[active]
    train_latents, train_factors = _votes(normalised, groups, num_train, batch_size, rng)
    votes = np.zeros((max(1, normalised.shape[1]), fac.shape[1]), dtype=np.int64)
    np.add.at(votes, (train_latents, train_factors), 1)
    classifier = votes.argmax(axis=1)
    eval_latents, eval_factors = _votes(normalised, groups, num_eval, batch_size, rng)
    return float(np.mean(classifier[eval_latents] == eval_factors))
