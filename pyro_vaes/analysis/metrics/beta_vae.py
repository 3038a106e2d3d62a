"""The beta-VAE disentanglement score (Higgins et al. 2017).

One example: draw a factor k, then ``batch_size`` pairs of points where the second
point shares the first one's level of v_k (see ``_interventions``); the feature is
the mean over the batch of |r(x_1) - r(x_2)| per latent and the label is k. A
logistic-regression classifier is fitted to ``num_train`` examples; the score is
its accuracy on ``num_eval`` fresh ones.

The defaults follow disentanglement_lib's ``beta_vae.compute_beta_vae_sklearn``
with its published configuration: scikit-learn's ``LogisticRegression`` with its
defaults (L2, C = 1, at most 100 L-BFGS iterations) on the raw features, 64
pairs per example, 10,000 training and 5,000 evaluation examples. On badly
scaled features 100 iterations can stop short of the optimum, as they do in the
reference; sklearn's ConvergenceWarning is silenced because that truncated fit is
the definition reproduced (pass ``max_iter=1000`` for a converged fit).
``standardise=True`` (features scaled to zero mean and unit variance on the
training examples first) with ``num_train=500, num_eval=300`` is this project's
earlier variant.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from pyro_vaes.analysis.metrics._inputs import as_factors, as_representation
from pyro_vaes.analysis.metrics._interventions import FactorGroups
from pyro_vaes.errors import ConfigError

_CHUNK_VALUES = 1 << 22


def _examples(rep: np.ndarray, groups: FactorGroups, num_examples: int, batch_size: int,
              rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(features (num_examples, D), fixed factor (num_examples,)) of fixed-factor pair batches.

    All random draws are made at once per factor; the features are computed in
    chunks of at most ``_CHUNK_VALUES`` gathered values.
    """
    factors = groups.sample_factors(num_examples, rng)
    first = rng.integers(rep.shape[0], size=(num_examples, batch_size))
    second = np.empty_like(first)
    for k in np.unique(factors).tolist():
        rows = np.flatnonzero(factors == k)
        anchors = first[rows].reshape(-1)
        second[rows] = groups.same_level(k, anchors, 1, rng).reshape(rows.shape[0], batch_size)
    features = np.empty((num_examples, rep.shape[1]))
    step = max(1, _CHUNK_VALUES // (batch_size * rep.shape[1]))
    for start in range(0, num_examples, step):
        part = slice(start, start + step)
        features[part] = np.abs(rep[first[part]] - rep[second[part]]).mean(axis=1)
    return features, factors


def beta_vae_score(representation: Any, factors: Any, *, seed: int = 0, batch_size: int = 64,
                   num_train: int = 10_000, num_eval: int = 5_000,
                   standardise: bool = False, max_iter: int = 100) -> float:
    """beta-VAE score in [0, 1]: eval accuracy of a linear classifier of the fixed factor."""
    if batch_size < 1 or num_train < 2 or num_eval < 1 or max_iter < 1:
        raise ConfigError("batch_size, num_eval and max_iter must be at least 1 and num_train "
                          "at least 2")
    rep = as_representation(representation)
    fac = as_factors(factors, rep.shape[0])
    groups = FactorGroups(fac)
    rng = np.random.default_rng(seed)
    train_x, train_y = _examples(rep, groups, num_train, batch_size, rng)
    eval_x, eval_y = _examples(rep, groups, num_eval, batch_size, rng)
    if np.unique(train_y).shape[0] < 2:
        return float(np.mean(eval_y == train_y[0]))
    classifier = LogisticRegression(max_iter=max_iter)
    model = make_pipeline(StandardScaler(), classifier) if standardise else classifier
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(train_x, train_y)
    return float(model.score(eval_x, eval_y))
