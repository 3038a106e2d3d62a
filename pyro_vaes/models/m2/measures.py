"""What `pyro-vaes evaluate` reports for M2, measured as for the CCVAE
(:mod:`pyro_vaes.models.ccvae.measures`), in the same four groups, on the whole split:

- ``accuracy``: argmax q(y | x) on the split;
- ``leakage``: a linear probe from z (posterior mean of q(z | x, y) at the
  predicted y, the representation M2 gives an unlabelled image) to y, fitted on
  every training image;
- ``interventions``: ``intervention_success``, z of each image kept, y set to a
  random other class, judged by the independent image classifier (cached);
  ``judge_accuracy`` on the unaltered images;
- ``diversity``: decoded samples z ~ N(0, I) for each fixed class.
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

GROUPS = ("accuracy", "leakage", "interventions", "diversity")


@torch.no_grad()
def m2_measures(model: Any, splits: Any, split: str,
                request: MeasureRequest | None = None) -> dict[str, Any]:
    """q(y | x) accuracy, z leakage, intervention success and diversity of M2 on a split
    (the groups ``request`` asks for), every figure with its ``_images`` count."""
    request = request or MeasureRequest()
    model.eval()
    device = next(model.parameters()).device
    data, train = getattr(splits, split), splits.train
    encode = lambda x: {"z": model.encode(x), "y": model.predict(x)}  # noqa: E731
    out: dict[str, Any] = {}
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(request.seed)
        generator = torch.Generator().manual_seed(request.seed)
        y_test = data.targets
        n = len(y_test)
        if request.wants("accuracy", "leakage"):
            test_rep = encode_dataset(encode, data, device=device)
        if request.wants("accuracy"):
            out.update(with_image_counts(accuracies(test_rep["y"], y_test,
                                                    model.label_space.names), n))
            request.done("accuracy")
        if request.wants("leakage"):
            train_rep = encode_dataset(encode, train, device=device)
            out.update(leakage(train_rep["z"], train.targets, test_rep["z"], y_test))
            request.done("leakage")
        if request.wants("interventions"):
            judge = train_image_classifier(train, train.targets, seed=request.seed,
                                           device=device, cache_dir=request.judge_cache)
            x = data.pixels(torch.arange(n)).to(device)
            out["judge_accuracy"] = float(label_accuracy(judge.predict(x).cpu(), y_test).mean())
            out["judge_accuracy_images"] = n
            out["judge_train_images"] = len(train)
            y = y_test.to(device)
            target = other_classes(y, model.num_classes, generator)
            z = decode_in_batches(model.encode, x, y)
            judged = judge.predict(decode_in_batches(model.decode, z, target))
            out["intervention_success"] = float((judged == target).float().mean())
            out["intervention_success_images"] = n
            request.done("interventions")
        if request.wants("diversity"):
            distances = []
            for k in range(model.num_classes):
                ys = torch.full((DIVERSITY_SAMPLES,), k, device=device)
                distances.append(mean_pairwise_distance(
                    model.decode(model.sample_latent(DIVERSITY_SAMPLES), ys)))
            out.update(with_image_counts({"diversity": sum(distances) / len(distances)},
                                         DIVERSITY_SAMPLES * len(distances)))
            request.done("diversity")
    return out
