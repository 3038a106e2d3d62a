"""Linear probes and batched encoding: how much a representation knows about a label.

Used by every model's measures (CCVAE label leakage into z_s, ML-VAE content
vs style, class-related vs class-independent latents, accuracy versus the
number of kept factors).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


@torch.no_grad()
def encode_dataset(encode: Callable[[torch.Tensor], dict[str, torch.Tensor]], dataset,
                   *, batch_size: int = 512, device: torch.device | str = "cpu",
                   limit: int | None = None) -> dict[str, torch.Tensor]:
    """Apply ``encode`` (e.g. ``model.representation``) to a data set in batches.

    Returns a dict of CPU tensors, one row per image (the first ``limit`` images).
    """
    n = len(dataset) if limit is None else min(limit, len(dataset))
    parts: dict[str, list[torch.Tensor]] = {}
    for start in range(0, n, batch_size):
        idx = torch.arange(start, min(start + batch_size, n))
        for key, value in encode(dataset.pixels(idx).to(device)).items():
            parts.setdefault(key, []).append(value.detach().cpu())
    return {key: torch.cat(values) for key, values in parts.items()}


def linear_probe_accuracy(train_features: torch.Tensor | np.ndarray,
                          train_labels: torch.Tensor | np.ndarray,
                          test_features: torch.Tensor | np.ndarray,
                          test_labels: torch.Tensor | np.ndarray, *, max_iter: int = 500,
                          seed: int = 0) -> float:
    """Test accuracy of a standardised multinomial logistic regression."""
    y_train = np.asarray(train_labels).astype(int)
    y_test = np.asarray(test_labels).astype(int)
    if len(np.unique(y_train)) < 2:
        return float(np.mean(y_test == y_train[0]))
    probe = make_pipeline(StandardScaler(),
                          LogisticRegression(max_iter=max_iter, random_state=seed))
    probe.fit(np.asarray(train_features, dtype=np.float64), y_train)
    return float(probe.score(np.asarray(test_features, dtype=np.float64), y_test))


def majority_rate(train_labels: torch.Tensor | np.ndarray,
                  test_labels: torch.Tensor | np.ndarray) -> float:
    """Accuracy of always predicting the most frequent training label (the chance line)."""
    y_train = np.asarray(train_labels).astype(int)
    values, counts = np.unique(y_train, return_counts=True)
    return float(np.mean(np.asarray(test_labels).astype(int) == values[np.argmax(counts)]))
