"""Explicitness (Ridgeway & Zemel 2018): can a linear classifier read each factor?

Per factor v_k a logistic regression (scikit-learn defaults: L2, C = 1, at most
100 L-BFGS iterations) is fitted on the training points' latents, standardised
with the training mean and standard deviation (a constant latent is only
centred). Its explicitness is the ROC-AUC of the predicted class probabilities on
the held-out points, one-vs-rest per level and averaged over levels (macro);
the score is the mean over factors. This is disentanglement_lib's
``modularity_explicitness.explicitness_per_factor`` test score. Levels missing
from either split, and factors with a single training level, are left out
(the reference fails on them).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from pyro_vaes.analysis.metrics._split import train_test_points
from pyro_vaes.errors import ConfigError, DataError


def _macro_auc(test_y: np.ndarray, probabilities: np.ndarray, classes: np.ndarray) -> float:
    """Mean one-vs-rest ROC-AUC over the classes with positives and negatives in test_y."""
    aucs = []
    for column, level in enumerate(classes.tolist()):
        positive = test_y == level
        if positive.any() and not positive.all():
            aucs.append(roc_auc_score(positive, probabilities[:, column]))
    return float(np.mean(aucs)) if aucs else float("nan")


def explicitness(representation: Any, factors: Any, *, seed: int = 0,
                 test_fraction: float = 0.3, test: tuple[Any, Any] | None = None,
                 max_iter: int = 100) -> float:
    """Explicitness in [0, 1] (0.5 for a useless code; see module doc); ``test_fraction`` of
    the points held out, or ``test=(representation, factors)`` as the held-out set."""
    if max_iter < 1:
        raise ConfigError(f"max_iter must be at least 1; got {max_iter}")
    train_rep, train_fac, test_rep, test_fac = train_test_points(
        representation, factors, test, test_fraction, seed)
    mean = train_rep.mean(axis=0)
    std = train_rep.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    train_x, test_x = (train_rep - mean) / std, (test_rep - mean) / std
    scores = []
    for k in range(train_fac.shape[1]):
        if np.unique(train_fac[:, k]).shape[0] < 2:
            continue
        model = LogisticRegression(max_iter=max_iter)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(train_x, train_fac[:, k])
        auc = _macro_auc(test_fac[:, k], model.predict_proba(test_x), model.classes_)
        if not np.isnan(auc):
            scores.append(auc)
    if not scores:
        raise DataError("no factor has two levels in both splits; explicitness needs one")
    return float(np.mean(scores))
