"""Equal-width binning and discrete entropies / mutual informations (in nats)."""

from __future__ import annotations

import numpy as np


def equal_width_bins(values: np.ndarray, num_bins: int,
                     edges_from: np.ndarray | None = None) -> np.ndarray:
    """Bin index in [0, num_bins) of each value, per column, with equal-width bins.

    The bins span the column's range in ``edges_from`` (default: ``values``);
    values outside that range go to the first or last bin. A constant column
    falls entirely into bin 0.
    """
    ref = values if edges_from is None else edges_from
    lo = ref.min(axis=0)
    width = ref.max(axis=0) - lo
    safe = np.where(width > 0, width, 1.0)
    scaled = (values - lo) / safe * num_bins
    bins = np.clip(np.floor(scaled), 0, num_bins - 1).astype(np.int64)
    return np.where(width > 0, bins, 0)


def histogram_bins(values: np.ndarray, num_bins: int) -> np.ndarray:
    """Bin index of each value, per column, with numpy's histogram edges.

    Each column gets ``num_bins`` equal-width bins from ``np.histogram_bin_edges``
    and the index of the last left edge at or below the value (so the maximum
    shares the last bin). Unlike :func:`equal_width_bins` the edges are exactly
    numpy's, which matters for values lying on an edge (integer levels): with
    21 levels 0..20 in 20 bins the top two levels share the last bin.
    """
    out = np.empty(values.shape, dtype=np.int64)
    for j in range(values.shape[1]):
        edges = np.histogram_bin_edges(values[:, j], num_bins)
        out[:, j] = np.digitize(values[:, j], edges[:-1]) - 1
    return out


def discrete_entropy(labels: np.ndarray) -> float:
    """Plug-in entropy of a 1-D array of non-negative integer labels."""
    counts = np.bincount(labels)
    p = counts[counts > 0] / labels.shape[0]
    return float(-(p * np.log(p)).sum())


def discrete_mutual_information(a: np.ndarray, b: np.ndarray) -> float:
    """Plug-in mutual information of two 1-D arrays of non-negative integer labels.

    Exactly 0 when either array holds a single label (as sklearn's
    ``mutual_info_score``), not a rounding residue of order 1e-17: scores that
    divide mutual informations by each other (modularity) would amplify it.
    """
    n = a.shape[0]
    if (a == a[0]).all() or (b == b[0]).all():
        return 0.0
    joint = np.bincount(a * (b.max() + 1) + b).astype(np.float64)
    joint = np.pad(joint, (0, (a.max() + 1) * (b.max() + 1) - joint.shape[0]))
    joint = joint.reshape(a.max() + 1, b.max() + 1) / n
    pa = joint.sum(1, keepdims=True)
    pb = joint.sum(0, keepdims=True)
    nz = joint > 0
    return float((joint[nz] * np.log(joint[nz] / (pa @ pb)[nz])).sum())


def mutual_information_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Plug-in I(a_i; b_j) (nats, clamped at 0) of every column pair of two label arrays."""
    return np.array([[max(0.0, discrete_mutual_information(a[:, i], b[:, j]))
                      for j in range(b.shape[1])] for i in range(a.shape[1])])
