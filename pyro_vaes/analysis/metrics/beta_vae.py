"""The beta-VAE disentanglement score (Higgins et al. 2017).

One example: draw a factor k, then ``batch_size`` pairs of points where the second
point shares the first one's level of v_k (see ``_interventions``); the feature is
the mean over the batch of |r(x_1) - r(x_2)| per latent and the label is k. A
logistic-regression classifier (on standardised features) is fitted to
``num_train`` examples; the score is its accuracy on ``num_eval`` fresh ones.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from pyro_vaes.analysis.metrics._inputs import as_factors, as_representation
from pyro_vaes.analysis.metrics._interventions import FactorGroups
from pyro_vaes.errors import ConfigError


def _examples(rep: np.ndarray, groups: FactorGroups, num_examples: int, batch_size: int,
              rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(features (num_examples, D), fixed factor (num_examples,)) of fixed-factor pair batches."""
    factors = groups.sample_factors(num_examples, rng)
    first = rng.integers(rep.shape[0], size=(num_examples, batch_size))
    second = np.empty_like(first)
    for k in np.unique(factors).tolist():
        rows = np.flatnonzero(factors == k)
        anchors = first[rows].reshape(-1)
        second[rows] = groups.same_level(k, anchors, 1, rng).reshape(rows.shape[0], batch_size)
    features = np.abs(rep[first] - rep[second]).mean(axis=1)
    return features, factors


def beta_vae_score(representation: Any, factors: Any, *, batch_size: int = 64,
                   num_train: int = 500, num_eval: int = 300, seed: int = 0) -> float:
    """beta-VAE score in [0, 1]: eval accuracy of a linear classifier of the fixed factor."""
    if batch_size < 1 or num_train < 2 or num_eval < 1:
        raise ConfigError("batch_size and num_eval must be at least 1 and num_train at least 2")
    rep = as_representation(representation)
    fac = as_factors(factors, rep.shape[0])
    groups = FactorGroups(fac)
    rng = np.random.default_rng(seed)
    train_x, train_y = _examples(rep, groups, num_train, batch_size, rng)
    eval_x, eval_y = _examples(rep, groups, num_eval, batch_size, rng)
    if np.unique(train_y).shape[0] < 2:
        return float(np.mean(eval_y == train_y[0]))
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    model.fit(train_x, train_y)
    return float(model.score(eval_x, eval_y))
