"""What `pyro-vaes evaluate` reports for a CCVAE (and, through the shared helpers, for M2).

- ``accuracy``: q(y | z_c) at the posterior mean of z_c, on the split (per label
  as ``accuracy/NAME`` for attributes; the mean over labels as ``accuracy``).
- ``leakage_probe_accuracy`` next to ``leakage_majority_rate``: a linear probe
  from the posterior mean of z_s to y (trained on training images); label
  information in z_s shows as a probe well above the majority-class rate.
- ``intervention_success``: the fraction of ``flip`` interventions that the
  independent image classifier (:mod:`pyro_vaes.analysis.image_classifier`)
  judges to carry the requested label; ``judge_accuracy`` is that classifier's
  accuracy on the unaltered images of the split.
- ``diversity``: mean pairwise root-mean-square pixel distance between decoded
  samples for a fixed y, averaged over the y values.

At most ``max_images`` images of each split are used (seeded and fixed).
"""

from __future__ import annotations

from typing import Any

import torch

from pyro_vaes.analysis.image_classifier import label_accuracy, train_image_classifier
from pyro_vaes.analysis.probes import encode_dataset, linear_probe_accuracy, majority_rate
from pyro_vaes.models.ccvae.interventions import flip_characteristics, other_classes

MAX_IMAGES = 5000
DIVERSITY_SAMPLES = 16


def mean_pairwise_distance(images: torch.Tensor) -> float:
    """Mean over pairs of the root-mean-square pixel difference of images (N, C, H, W)."""
    flat = images.flatten(1)
    return float(torch.pdist(flat).mean() / flat.shape[1] ** 0.5)


def leakage(train_features: torch.Tensor, train_labels: torch.Tensor,
            test_features: torch.Tensor, test_labels: torch.Tensor) -> dict[str, float]:
    """Linear probe accuracy from features to labels and the majority-class rate,
    averaged over labels for attributes (N, L)."""
    if train_labels.dim() == 1:
        train_labels, test_labels = train_labels[:, None], test_labels[:, None]
    probes, majority = [], []
    for i in range(train_labels.shape[1]):
        probes.append(linear_probe_accuracy(train_features, train_labels[:, i],
                                            test_features, test_labels[:, i]))
        majority.append(majority_rate(train_labels[:, i], test_labels[:, i]))
    return {"leakage_probe_accuracy": sum(probes) / len(probes),
            "leakage_majority_rate": sum(majority) / len(majority)}


def accuracies(predicted: torch.Tensor, labels: torch.Tensor,
               names: tuple[str, ...]) -> dict[str, float]:
    """``accuracy`` (mean over labels), and ``accuracy/NAME`` per label for attributes."""
    per_label = label_accuracy(predicted.cpu(), labels.cpu())
    out = {"accuracy": float(per_label.mean())}
    if labels.dim() == 2:
        out.update({f"accuracy/{name}": float(a)
                    for name, a in zip(names, per_label.tolist(), strict=True)})
    return out


def flip_targets(y: torch.Tensor, multiclass: bool, num_labels: int,
                 generator: torch.Generator) -> list[tuple[int | None, torch.Tensor]]:
    """The requested labels of the success measure: one random other class per image, or
    each attribute flipped in turn (with its index)."""
    if multiclass:
        return [(None, other_classes(y, num_labels, generator))]
    out = []
    for i in range(num_labels):
        target = y.clone()
        target[:, i] = 1.0 - target[:, i]
        out.append((i, target))
    return out


def success_rate(judged: torch.Tensor, target: torch.Tensor, index: int | None) -> float:
    """Fraction of images the judge labels as requested (label ``index`` for attributes)."""
    if index is None:
        return float((judged == target).float().mean())
    return float((judged[:, index] == target[:, index]).float().mean())


@torch.no_grad()
def ccvae_measures(model: Any, splits: Any, split: str, *, max_images: int = MAX_IMAGES,
                   seed: int = 0) -> dict[str, Any]:
    """Accuracy, z_s leakage, intervention success and diversity of a CCVAE on a split."""
    model.eval()
    device = next(model.parameters()).device
    space = model.label_space
    data, train = getattr(splits, split), splits.train
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        generator = torch.Generator().manual_seed(seed)
        test_rep = encode_dataset(model.representation, data, device=device, limit=max_images)
        train_rep = encode_dataset(model.representation, train, device=device, limit=max_images)
        y_test = space.of(data)[:len(test_rep["z_c"])]
        y_train = space.of(train)[:len(train_rep["z_c"])]
        out: dict[str, Any] = accuracies(model.classifier.predict(test_rep["z_c"].to(device)),
                                         y_test, space.names)
        out.update(leakage(train_rep["z_s"], y_train, test_rep["z_s"], y_test))

        y_all = space.of(train)
        judge = train_image_classifier(train, y_all, seed=seed, device=device)
        x = data.pixels(torch.arange(len(y_test))).to(device)
        out["judge_accuracy"] = float(label_accuracy(judge.predict(x).cpu(), y_test).mean())
        z_c, z_s, y = test_rep["z_c"].to(device), test_rep["z_s"].to(device), y_test.to(device)
        rates = []
        for index, target in flip_targets(y, space.multiclass, space.size, generator):
            images = model.decode(flip_characteristics(model, z_c, y, target), z_s)
            rates.append(success_rate(judge.predict(images), target, index))
        out["intervention_success"] = sum(rates) / len(rates)

        fixed = (torch.arange(space.size, device=device) if space.multiclass
                 else y[:min(10, len(y))])
        distances = []
        for row in fixed:
            ys = row.expand(DIVERSITY_SAMPLES, *row.shape)
            images = model.decode(model.sample_characteristics(ys),
                                  model.sample_style(DIVERSITY_SAMPLES))
            distances.append(mean_pairwise_distance(images))
        out["diversity"] = sum(distances) / len(distances)
    return out
