"""Sampling data points that share the level of one factor, as fixed-factor batches.

On a full factorial data set (every combination of factor levels present equally
often) the points sharing v_k = v are exactly a draw from p(x | v_k = v) with the
other factors uniform, so this replaces the simulator of the original papers.
"""

from __future__ import annotations

import numpy as np

from pyro_vaes.errors import DataError


class FactorGroups:
    """Row indices of a factor matrix (N, F) grouped by each factor's level."""

    def __init__(self, factors: np.ndarray) -> None:
        self.factors = factors
        self._order = []
        self._first = []
        self._count = []
        for k in range(factors.shape[1]):
            order = np.argsort(factors[:, k], kind="stable")
            count = np.bincount(factors[:, k])
            self._order.append(order)
            self._count.append(count)
            self._first.append(np.concatenate([[0], np.cumsum(count)[:-1]]))
        self.varying = np.array([np.count_nonzero(c) > 1 for c in self._count])
        if np.count_nonzero(self.varying) < 2:
            raise DataError("this metric needs at least two factors with more than one level")

    def sample_factors(self, size: int, rng: np.random.Generator) -> np.ndarray:
        """Factor indices drawn uniformly among the factors that vary."""
        return rng.choice(np.flatnonzero(self.varying), size=size)

    def same_level(self, factor: int, anchors: np.ndarray, size: int,
                   rng: np.random.Generator) -> np.ndarray:
        """(len(anchors), size) rows drawn with replacement, each sharing its anchor's level."""
        levels = self.factors[anchors, factor]
        first = self._first[factor][levels][:, None]
        count = self._count[factor][levels][:, None]
        offset = np.floor(rng.random((anchors.shape[0], size)) * count).astype(np.int64)
        return self._order[factor][first + offset]
