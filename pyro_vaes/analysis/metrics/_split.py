"""Seeded train/test splits of row indices, or a held-out set given explicitly."""

from __future__ import annotations

from typing import Any

import numpy as np

from pyro_vaes.analysis.metrics._inputs import as_factors, as_representation
from pyro_vaes.errors import ConfigError, DataError


def train_test_indices(num_points: int, test_fraction: float,
                       rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Shuffled (train, test) row indices, both non-empty."""
    if not 0.0 < test_fraction < 1.0:
        raise ConfigError(f"test_fraction must lie in (0, 1); got {test_fraction}")
    if num_points < 2:
        raise ConfigError(f"a train/test split needs at least 2 points; got {num_points}")
    order = rng.permutation(num_points)
    num_test = min(num_points - 1, max(1, round(test_fraction * num_points)))
    return order[num_test:], order[:num_test]


def train_test_points(representation: Any, factors: Any, test: tuple[Any, Any] | None,
                      test_fraction: float, seed: int
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(train rep, train factors, test rep, test factors) as validated arrays.

    With ``test = (representation, factors)`` given, the inputs are the training
    set and ``test`` the held-out set (as the reference code draws two samples);
    otherwise a seeded ``test_fraction`` of the points is held out.
    """
    rep = as_representation(representation)
    fac = as_factors(factors, rep.shape[0])
    if test is None:
        train, held_out = train_test_indices(rep.shape[0], test_fraction,
                                             np.random.default_rng(seed))
        return rep[train], fac[train], rep[held_out], fac[held_out]
    test_rep = as_representation(test[0])
    test_fac = as_factors(test[1], test_rep.shape[0])
    if test_rep.shape[1] != rep.shape[1] or test_fac.shape[1] != fac.shape[1]:
        raise DataError(f"the test set has {test_rep.shape[1]} latents and "
                        f"{test_fac.shape[1]} factors but the training set {rep.shape[1]} and "
                        f"{fac.shape[1]}; pass both with the same columns")
    return rep, fac, test_rep, test_fac
