"""Validation and conversion of the (representation, factors) inputs of the metrics."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from pyro_vaes.errors import DataError


def _to_numpy(array: Any) -> np.ndarray:
    """A numpy view or copy of a numpy array, torch tensor or nested sequence."""
    if isinstance(array, torch.Tensor):
        return array.detach().cpu().numpy()
    return np.asarray(array)


def as_representation(representation: Any) -> np.ndarray:
    """The representation as a finite float64 array (N, D)."""
    rep = _to_numpy(representation).astype(np.float64, copy=False)
    if rep.ndim != 2 or rep.shape[0] == 0 or rep.shape[1] == 0:
        raise DataError(f"representation must have shape (N, D) with N, D >= 1; "
                        f"got {rep.shape}")
    if not np.isfinite(rep).all():
        raise DataError("representation holds nan or inf; drop those rows")
    return rep


def as_factors(factors: Any, num_points: int) -> np.ndarray:
    """The factors as an int64 array (N, F) of non-negative level indices."""
    fac = _to_numpy(factors)
    if fac.ndim == 1:
        fac = fac[:, None]
    if fac.ndim != 2 or fac.shape[1] == 0:
        raise DataError(f"factors must have shape (N, F) with F >= 1; got {fac.shape}")
    if fac.shape[0] != num_points:
        raise DataError(f"factors have {fac.shape[0]} rows but the representation has "
                        f"{num_points}; pass one row of factor levels per data point")
    if not np.issubdtype(fac.dtype, np.integer):
        if not np.all(np.equal(np.mod(fac, 1), 0)):
            raise DataError("factors must be integer level indices; discretise them first")
    fac = fac.astype(np.int64)
    if (fac < 0).any():
        raise DataError("factors must be non-negative level indices; relabel them 0..L-1")
    return fac
