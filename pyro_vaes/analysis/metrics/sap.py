"""SAP, the Separated Attribute Predictability score (Kumar et al. 2018).

For each latent z_j and factor v_k a classifier that sees z_j only predicts v_k;
S_jk is its accuracy on held-out points, and

    SAP = mean_k [S_(1)k - S_(2)k]      (best minus second-best latent per factor)

``classifier="linear_svm"`` (default) is the published score for discrete
factors as disentanglement_lib's ``sap_score._compute_score_matrix`` computes
it: a linear SVM (``LinearSVC(C=0.01, class_weight="balanced")``) per pair and
its raw test accuracy. ``classifier="binned"`` is this project's earlier variant:
z_j cut into ``num_bins`` equal-width bins on the training split, each bin
predicting its most frequent training level, and the accuracy rescaled so that
the majority-level predictor scores 0 and a perfect one 1,
S_jk = max(0, (acc - chance_k) / (1 - chance_k)).

Factors with a single level in the training split are left out of the mean.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from sklearn.svm import LinearSVC

from pyro_vaes.analysis.metrics._discretize import equal_width_bins
from pyro_vaes.analysis.metrics._split import train_test_points
from pyro_vaes.errors import ConfigError, DataError

SAPClassifier = Literal["linear_svm", "binned"]


@dataclass
class SAPScores:
    """SAP score and the one-latent accuracies S (D, F) it is computed from."""

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


def _binned_matrix(train_rep: np.ndarray, train_fac: np.ndarray, test_rep: np.ndarray,
                   test_fac: np.ndarray, num_bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Chance-rescaled binned accuracies (D, F) and the mask of factors that count."""
    train_bins = equal_width_bins(train_rep, num_bins)
    test_bins = equal_width_bins(test_rep, num_bins, edges_from=train_rep)
    scores = np.zeros((train_rep.shape[1], train_fac.shape[1]))
    varying = np.zeros(train_fac.shape[1], dtype=bool)
    for k in range(train_fac.shape[1]):
        train_y, test_y = train_fac[:, k], test_fac[:, k]
        majority = int(np.bincount(train_y).argmax())
        chance = float(np.mean(test_y == majority))
        varying[k] = np.unique(np.concatenate([train_y, test_y])).shape[0] > 1 and chance < 1.0
        if not varying[k]:
            continue
        for j in range(train_rep.shape[1]):
            acc = _binned_accuracy(train_bins[:, j], train_y, test_bins[:, j], test_y,
                                   num_bins, majority)
            scores[j, k] = max(0.0, (acc - chance) / (1.0 - chance))
    return scores, varying


def _svm_accuracy(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray,
                  test_y: np.ndarray) -> float:
    """Test accuracy of a one-feature linear SVM (C = 0.01, balanced class weights).

    The primal solver minimises the same objective as the reference's default dual
    one (squared hinge, L2 penalty on weights and intercept), so both reach the same
    optimum; it is faster and deterministic.
    """
    model = LinearSVC(C=0.01, class_weight="balanced", dual=False)
    model.fit(train_x[:, None], train_y)
    return float(np.mean(model.predict(test_x[:, None]) == test_y))


def _svm_matrix(train_rep: np.ndarray, train_fac: np.ndarray, test_rep: np.ndarray,
                test_fac: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Raw linear-SVM test accuracies (D, F) and the mask of factors that count."""
    scores = np.zeros((train_rep.shape[1], train_fac.shape[1]))
    varying = np.array([np.unique(train_fac[:, k]).shape[0] > 1
                        for k in range(train_fac.shape[1])])
    for k in np.flatnonzero(varying).tolist():
        for j in range(train_rep.shape[1]):
            scores[j, k] = _svm_accuracy(train_rep[:, j], train_fac[:, k], test_rep[:, j],
                                         test_fac[:, k])
    return scores, varying


def sap_scores(representation: Any, factors: Any, *, seed: int = 0,
               classifier: SAPClassifier = "linear_svm", num_bins: int = 20,
               test_fraction: float = 0.3, test: tuple[Any, Any] | None = None) -> SAPScores:
    """SAP and its accuracy matrix; ``test=(representation, factors)`` gives the held-out
    set explicitly, otherwise a seeded ``test_fraction`` of the points is held out."""
    if classifier not in ("linear_svm", "binned"):
        raise ConfigError(f"unknown SAP classifier {classifier!r}; use 'linear_svm' or 'binned'")
    if num_bins < 2:
        raise ConfigError(f"num_bins must be at least 2; got {num_bins}")
    train_rep, train_fac, test_rep, test_fac = train_test_points(
        representation, factors, test, test_fraction, seed)
    if classifier == "binned":
        scores, varying = _binned_matrix(train_rep, train_fac, test_rep, test_fac, num_bins)
    else:
        scores, varying = _svm_matrix(train_rep, train_fac, test_rep, test_fac)
    if not varying.any():
        raise DataError("every factor has a single level; SAP needs a factor that varies")
    top = np.sort(scores, axis=0)[::-1]
    second = top[1] if top.shape[0] > 1 else np.zeros(top.shape[1])
    return SAPScores(float(np.mean((top[0] - second)[varying])), scores)


def sap(representation: Any, factors: Any, *, seed: int = 0,
        classifier: SAPClassifier = "linear_svm", num_bins: int = 20,
        test_fraction: float = 0.3, test: tuple[Any, Any] | None = None) -> float:
    """SAP score in [0, 1]; by default the published linear-SVM form (see module doc)."""
    return sap_scores(representation, factors, seed=seed, classifier=classifier,
                      num_bins=num_bins, test_fraction=test_fraction, test=test).score
