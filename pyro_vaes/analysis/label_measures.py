"""Measures shared by the models that read labels (CCVAE, M2): label accuracy, the leakage of
labels into a latent, the diversity of decoded samples, decoding in batches."""

from __future__ import annotations

from typing import Any

import torch

from pyro_vaes.analysis.image_classifier import label_accuracy
from pyro_vaes.analysis.probes import linear_probe_accuracy, majority_rate

DIVERSITY_SAMPLES = 16


def mean_pairwise_distance(images: torch.Tensor) -> float:
    """Mean over pairs of the root-mean-square pixel difference of images (N, C, H, W)."""
    flat = images.flatten(1)
    return float(torch.pdist(flat).mean() / flat.shape[1] ** 0.5)


def leakage(train_features: torch.Tensor, train_labels: torch.Tensor,
            test_features: torch.Tensor, test_labels: torch.Tensor) -> dict[str, Any]:
    """Linear probe accuracy from features to labels and the majority-class rate,
    averaged over labels for attributes (N, L), with their image counts."""
    if train_labels.dim() == 1:
        train_labels, test_labels = train_labels[:, None], test_labels[:, None]
    probes, majority = [], []
    for i in range(train_labels.shape[1]):
        probes.append(linear_probe_accuracy(train_features, train_labels[:, i],
                                            test_features, test_labels[:, i]))
        majority.append(majority_rate(train_labels[:, i], test_labels[:, i]))
    n_test, n_train = len(test_labels), len(train_labels)
    return {"leakage_probe_accuracy": sum(probes) / len(probes),
            "leakage_probe_accuracy_images": n_test,
            "leakage_probe_accuracy_train_images": n_train,
            "leakage_majority_rate": sum(majority) / len(majority),
            "leakage_majority_rate_images": n_test,
            "leakage_majority_rate_train_images": n_train}


def accuracies(predicted: torch.Tensor, labels: torch.Tensor,
               names: tuple[str, ...]) -> dict[str, float]:
    """``accuracy`` (mean over labels), and ``accuracy/NAME`` per label for attributes."""
    per_label = label_accuracy(predicted.cpu(), labels.cpu())
    out = {"accuracy": float(per_label.mean())}
    if labels.dim() == 2:
        out.update({f"accuracy/{name}": float(a)
                    for name, a in zip(names, per_label.tolist(), strict=True)})
    return out


DECODE_BATCH = 1000


def decode_in_batches(decode: Any, *tensors: torch.Tensor,
                      batch_size: int = DECODE_BATCH) -> torch.Tensor:
    """``decode(*rows)`` over the rows of ``tensors`` in batches, concatenated."""
    n = tensors[0].shape[0]
    return torch.cat([decode(*(t[i:i + batch_size] for t in tensors))
                      for i in range(0, n, batch_size)])
