"""DCI: disentanglement, completeness and informativeness (Eastwood & Williams 2018).

Per factor v_k a gradient-boosted tree classifier predicts v_k from all latents;
its impurity-based feature importances form column k of the importance matrix
R (D, F). With P_jk = R_jk / sum_k R_jk and Q_jk = R_jk / sum_j R_jk:

    disentanglement = sum_j rho_j (1 - H_F(P_j.)),  rho_j = sum_k R_jk / sum_jk R_jk
    completeness    = mean_k (1 - H_D(Q_.k))
    informativeness = mean_k test accuracy of the classifier of v_k

where H_B is the entropy in base B (taken as 0 when B = 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.ensemble import GradientBoostingClassifier

from pyro_vaes.analysis.metrics._inputs import as_factors, as_representation
from pyro_vaes.analysis.metrics._split import train_test_indices


@dataclass
class DCIScores:
    """DCI scores in [0, 1] and the importance matrix R (D, F) they come from."""

    disentanglement: float
    completeness: float
    informativeness: float
    importance: np.ndarray


def _normalised_entropy(weights: np.ndarray, axis: int) -> np.ndarray:
    """Entropy of weights normalised along ``axis``, in base (length of that axis)."""
    size = weights.shape[axis]
    total = weights.sum(axis=axis, keepdims=True)
    p = weights / np.where(total > 0, total, 1.0)
    if size == 1:
        return np.zeros(p.shape[1 - axis])
    logs = np.log(np.where(p > 0, p, 1.0))
    return -(p * logs).sum(axis=axis) / np.log(size)


def scores_from_importance(importance: np.ndarray) -> tuple[float, float]:
    """(disentanglement, completeness) of an importance matrix R (D, F); 0 where R is 0."""
    total = importance.sum()
    if total <= 0:
        return 0.0, 0.0
    per_latent = 1.0 - _normalised_entropy(importance, axis=1)
    rho = importance.sum(axis=1) / total
    per_factor = 1.0 - _normalised_entropy(importance, axis=0)
    per_factor = np.where(importance.sum(axis=0) > 0, per_factor, 0.0)
    return float((rho * per_latent).sum()), float(per_factor.mean())


def dci(representation: Any, factors: Any, *, seed: int = 0, test_fraction: float = 0.3,
        num_estimators: int = 10, max_depth: int = 3) -> DCIScores:
    """DCI with gradient-boosted importances; ``test_fraction`` of the points held out."""
    rep = as_representation(representation)
    fac = as_factors(factors, rep.shape[0])
    rng = np.random.default_rng(seed)
    train, test = train_test_indices(rep.shape[0], test_fraction, rng)
    importance = np.zeros((rep.shape[1], fac.shape[1]))
    accuracy = np.zeros(fac.shape[1])
    for k in range(fac.shape[1]):
        target = fac[:, k]
        levels = np.unique(target[train])
        if levels.shape[0] < 2:
            accuracy[k] = float(np.mean(target[test] == levels[0]))
            continue
        model = GradientBoostingClassifier(n_estimators=num_estimators, max_depth=max_depth,
                                           random_state=seed)
        model.fit(rep[train], target[train])
        importance[:, k] = np.abs(model.feature_importances_)
        accuracy[k] = model.score(rep[test], target[test])
    disentanglement, completeness = scores_from_importance(importance)
    return DCIScores(disentanglement, completeness, float(accuracy.mean()), importance)


def dci_disentanglement(representation: Any, factors: Any, *, seed: int = 0) -> float:
    """The disentanglement score D of :func:`dci`, in [0, 1]."""
    return dci(representation, factors, seed=seed).disentanglement
