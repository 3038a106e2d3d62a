"""A seeded train/test split of row indices."""

from __future__ import annotations

import numpy as np

from pyro_vaes.errors import ConfigError


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
