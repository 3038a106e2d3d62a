"""SAP, the Separated Attribute Predictability score (Kumar et al. 2018), classification form.

For each latent z_j and factor v_k a one-latent classifier predicts v_k: z_j is cut
into ``num_bins`` equal-width bins on the training split and each bin predicts the
most frequent training level in it. Its test accuracy is rescaled so that the
constant majority-level predictor scores 0 and a perfect one 1:

    S_jk = max(0, (acc_jk - chance_k) / (1 - chance_k))
    SAP  = mean_k [S_(1)k - S_(2)k]      (top minus second best latent)

Factors with a single level are left out of the mean.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from pyro_vaes.analysis.metrics._discretize import equal_width_bins
from pyro_vaes.analysis.metrics._inputs import as_factors, as_representation
from pyro_vaes.analysis.metrics._split import train_test_indices
from pyro_vaes.errors import ConfigError, DataError


@dataclass
class SAPScores:
    """SAP score and the chance-rescaled one-latent accuracies S (D, F)."""

    score: float
    predictability: np.ndarray


def _binned_accuracy(train_bins: np.ndarray, train_y: np.ndarray, test_bins: np.ndarray,
                     test_y: np.ndarray, num_bins: int, fallback: int) -> float:
    """Test accuracy of predicting the majority training level of each bin."""
    num_levels = int(max(train_y.max(), test_y.max())) + 1
    counts = np.bincount(train_bins * num_levels + train_y, minlength=num_bins * num_levels)
    counts = counts.reshape(num_bins, num_levels)
    prediction = np.where(counts.sum(1) > 0, counts.argmax(1), fallback)
    return float(np.mean(prediction[test_bins] == test_y))


def sap_scores(representation: Any, factors: Any, *, num_bins: int = 20, seed: int = 0,
               test_fraction: float = 0.3) -> SAPScores:
    """SAP with binned one-latent classifiers and its predictability matrix."""
    if num_bins < 2:
        raise ConfigError(f"num_bins must be at least 2; got {num_bins}")
    rep = as_representation(representation)
    fac = as_factors(factors, rep.shape[0])
    train, test = train_test_indices(rep.shape[0], test_fraction, np.random.default_rng(seed))
    train_bins = equal_width_bins(rep[train], num_bins)
    test_bins = equal_width_bins(rep[test], num_bins, edges_from=rep[train])
    scores = np.zeros((rep.shape[1], fac.shape[1]))
    varying = np.zeros(fac.shape[1], dtype=bool)
    for k in range(fac.shape[1]):
        train_y, test_y = fac[train, k], fac[test, k]
        majority = int(np.bincount(train_y).argmax())
        chance = float(np.mean(test_y == majority))
        varying[k] = np.unique(fac[:, k]).shape[0] > 1 and chance < 1.0
        if not varying[k]:
            continue
        for j in range(rep.shape[1]):
            acc = _binned_accuracy(train_bins[:, j], train_y, test_bins[:, j], test_y,
                                   num_bins, majority)
            scores[j, k] = max(0.0, (acc - chance) / (1.0 - chance))
    if not varying.any():
        raise DataError("every factor has a single level; SAP needs a factor that varies")
    top = np.sort(scores, axis=0)[::-1]
    second = top[1] if top.shape[0] > 1 else np.zeros(top.shape[1])
    return SAPScores(float(np.mean((top[0] - second)[varying])), scores)


def sap(representation: Any, factors: Any, *, num_bins: int = 20, seed: int = 0) -> float:
    """SAP score in [0, 1] (binned one-latent classifiers, chance-rescaled accuracies)."""
    return sap_scores(representation, factors, num_bins=num_bins, seed=seed).score
