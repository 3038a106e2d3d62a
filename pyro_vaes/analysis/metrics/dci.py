"""DCI: disentanglement, completeness and informativeness (Eastwood & Williams 2018).

Per factor v_k a gradient-boosted tree classifier predicts v_k from all latents;
its impurity-based feature importances form column k of the importance matrix
R (D, F). With P_jk = R_jk / sum_k R_jk, Q_jk = R_jk / sum_j R_jk,
rho_j = sum_k R_jk / sum_jk R_jk and w_k = sum_j R_jk / sum_jk R_jk:

    disentanglement = sum_j rho_j (1 - H_F(P_j.))
    completeness    = sum_k w_k (1 - H_D(Q_.k))      (completeness="weighted")
                    = mean_k (1 - H_D(Q_.k))          (completeness="mean")
    informativeness = mean_k test accuracy of the classifier of v_k

where H_B is the entropy in base B (taken as 0 when B = 1). The defaults follow
disentanglement_lib's ``dci.compute_dci``: ``GradientBoostingClassifier()`` with
its defaults (100 stages of depth-3 trees, learning rate 0.1) and completeness
weighted by factor importance. sklearn's importances of one classifier sum to 1,
so the two completeness forms differ only when a factor gets no importance at
all. The project's earlier variant is ``num_estimators=10, completeness="mean"``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from sklearn.ensemble import GradientBoostingClassifier

from pyro_vaes.analysis.metrics._split import train_test_points
from pyro_vaes.errors import ConfigError

CompletenessWeights = Literal["weighted", "mean"]


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


def scores_from_importance(importance: np.ndarray,
                           completeness: CompletenessWeights = "weighted"
                           ) -> tuple[float, float]:
    """(disentanglement, completeness) of an importance matrix R (D, F); 0 where R is 0."""
    if completeness not in ("weighted", "mean"):
        raise ConfigError(f"unknown completeness weighting {completeness!r}; "
                          f"use 'weighted' or 'mean'")
    total = importance.sum()
    if total <= 0:
        return 0.0, 0.0
    per_latent = 1.0 - _normalised_entropy(importance, axis=1)
    rho = importance.sum(axis=1) / total
    per_factor = 1.0 - _normalised_entropy(importance, axis=0)
    factor_total = importance.sum(axis=0)
    per_factor = np.where(factor_total > 0, per_factor, 0.0)
    if completeness == "weighted":
        return float((rho * per_latent).sum()), float((factor_total / total * per_factor).sum())
    return float((rho * per_latent).sum()), float(per_factor.mean())


def dci(representation: Any, factors: Any, *, seed: int = 0, test_fraction: float = 0.3,
        num_estimators: int = 100, max_depth: int = 3,
        completeness: CompletenessWeights = "weighted",
        test: tuple[Any, Any] | None = None) -> DCIScores:
    """DCI with gradient-boosted importances (see module doc); ``test_fraction`` of the points
    held out, or ``test=(representation, factors)`` as the held-out set."""
    if num_estimators < 1 or max_depth < 1:
        raise ConfigError("num_estimators and max_depth must be at least 1")
    if completeness not in ("weighted", "mean"):
        raise ConfigError(f"unknown completeness weighting {completeness!r}; "
                          f"use 'weighted' or 'mean'")
    train_rep, train_fac, test_rep, test_fac = train_test_points(
        representation, factors, test, test_fraction, seed)
    importance = np.zeros((train_rep.shape[1], train_fac.shape[1]))
    accuracy = np.zeros(train_fac.shape[1])
    for k in range(train_fac.shape[1]):
        target = train_fac[:, k]
        levels = np.unique(target)
        if levels.shape[0] < 2:
            accuracy[k] = float(np.mean(test_fac[:, k] == levels[0]))
            continue
        model = GradientBoostingClassifier(n_estimators=num_estimators, max_depth=max_depth,
                                           random_state=seed)
        model.fit(train_rep, target)
        importance[:, k] = np.abs(model.feature_importances_)
        accuracy[k] = model.score(test_rep, test_fac[:, k])
    disentanglement, complete = scores_from_importance(importance, completeness)
    return DCIScores(disentanglement, complete, float(accuracy.mean()), importance)


def dci_disentanglement(representation: Any, factors: Any, *, seed: int = 0,
                        num_estimators: int = 100) -> float:
    """The disentanglement score D of :func:`dci`, in [0, 1]."""
    return dci(representation, factors, seed=seed,
               num_estimators=num_estimators).disentanglement
