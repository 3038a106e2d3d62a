"""What `pyro-vaes evaluate` reports for a CCVAE (and, through the shared helpers, for M2).

Four groups (``--measures``), each on the whole split, every figure with its
``_images`` count:

- ``accuracy``: q(y | z_c) at the posterior mean of z_c, on the split (per label
  as ``accuracy/NAME`` for attributes; the mean over labels as ``accuracy``).
- ``leakage``: ``leakage_probe_accuracy`` next to ``leakage_majority_rate``: a linear
  probe from the posterior mean of z_s to y, fitted on every training image
  (``leakage_probe_accuracy_train_images``); label information in z_s shows as a
  probe well above the majority-class rate.
- ``interventions``: ``intervention_success``, the fraction of ``flip``
  interventions (every image of the split: to a random other class, or each
  attribute flipped in turn) that the independent image classifier
  (:mod:`pyro_vaes.analysis.image_classifier`, trained once per data set and
  cached) judges to carry the requested label; ``judge_accuracy`` is that
  classifier's accuracy on the unaltered images of the split.
- ``diversity``: mean pairwise root-mean-square pixel distance between 16 decoded
  samples for a fixed y, averaged over the y values.
"""

from __future__ import annotations

from typing import Any

import torch

from pyro_vaes.analysis.image_classifier import label_accuracy, train_image_classifier
from pyro_vaes.analysis.label_measures import (
    DIVERSITY_SAMPLES,
    accuracies,
    decode_in_batches,
    leakage,
    mean_pairwise_distance,
)
from pyro_vaes.analysis.measure_request import MeasureRequest, with_image_counts
from pyro_vaes.analysis.probes import encode_dataset
from pyro_vaes.labels import other_classes
from pyro_vaes.models.ccvae.interventions import flip_characteristics


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


GROUPS = ("accuracy", "leakage", "interventions", "diversity")


@torch.no_grad()
def ccvae_measures(model: Any, splits: Any, split: str,
                   request: MeasureRequest | None = None) -> dict[str, Any]:
    """The groups of the module docstring that ``request`` asks for, as one flat dict."""
    request = request or MeasureRequest()
    model.eval()
    device = next(model.parameters()).device
    space = model.label_space
    data, train = getattr(splits, split), splits.train
    out: dict[str, Any] = {}
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(request.seed)
        generator = torch.Generator().manual_seed(request.seed)
        y_test = space.of(data)
        n = len(y_test)
        if request.wants("accuracy", "leakage", "interventions"):
            test_rep = encode_dataset(model.representation, data, device=device)
        if request.wants("accuracy"):
            predicted = model.classifier.predict(test_rep["z_c"].to(device))
            out.update(with_image_counts(accuracies(predicted, y_test, space.names), n))
            request.done("accuracy")
        if request.wants("leakage"):
            train_rep = encode_dataset(model.representation, train, device=device)
            out.update(leakage(train_rep["z_s"], space.of(train), test_rep["z_s"], y_test))
            request.done("leakage")
        if request.wants("interventions"):
            judge = train_image_classifier(train, space.of(train), seed=request.seed,
                                           device=device, cache_dir=request.judge_cache)
            x = data.pixels(torch.arange(n))
            out["judge_accuracy"] = float(label_accuracy(judge.predict(x.to(device)).cpu(),
                                                         y_test).mean())
            out["judge_accuracy_images"] = n
            out["judge_train_images"] = len(train)
            z_c, z_s, y = test_rep["z_c"].to(device), test_rep["z_s"].to(device), y_test.to(device)
            rates, judged_images = [], 0
            for index, target in flip_targets(y, space.multiclass, space.size, generator):
                flipped = flip_characteristics(model, z_c, y, target)
                images = decode_in_batches(model.decode, flipped, z_s)
                rates.append(success_rate(judge.predict(images), target, index))
                judged_images += n
            out["intervention_success"] = sum(rates) / len(rates)
            out["intervention_success_images"] = judged_images
            request.done("interventions")
        if request.wants("diversity"):
            fixed = (torch.arange(space.size, device=device) if space.multiclass
                     else y_test[:min(10, n)].to(device))
            distances = []
            for row in fixed:
                ys = row.expand(DIVERSITY_SAMPLES, *row.shape)
                images = model.decode(model.sample_characteristics(ys),
                                      model.sample_style(DIVERSITY_SAMPLES))
                distances.append(mean_pairwise_distance(images))
            out.update(with_image_counts({"diversity": sum(distances) / len(distances)},
                                         DIVERSITY_SAMPLES * len(distances)))
            request.done("diversity")
    return out
