"""What `pyro-vaes evaluate` reports for M2, measured as for the CCVAE
(:mod:`pyro_vaes.models.ccvae.measures`):

- ``accuracy``: argmax q(y | x) on the split;
- leakage: a linear probe from z (posterior mean of q(z | x, y) at the
  predicted y, the representation M2 gives an unlabelled image) to y;
- ``intervention_success``: z of each image kept, y set to a random other class,
  judged by the independent image classifier;
- ``diversity``: decoded samples z ~ N(0, I) for each fixed class.
"""

from __future__ import annotations

from typing import Any

import torch

from pyro_vaes.analysis.image_classifier import label_accuracy, train_image_classifier
from pyro_vaes.analysis.probes import encode_dataset
from pyro_vaes.models.ccvae.interventions import other_classes
from pyro_vaes.models.ccvae.measures import (
    DIVERSITY_SAMPLES,
    MAX_IMAGES,
    accuracies,
    leakage,
    mean_pairwise_distance,
)


@torch.no_grad()
def m2_measures(model: Any, splits: Any, split: str, *, max_images: int = MAX_IMAGES,
                seed: int = 0) -> dict[str, Any]:
    """q(y | x) accuracy, z leakage, intervention success and diversity of M2 on a split."""
    model.eval()
    device = next(model.parameters()).device
    data, train = getattr(splits, split), splits.train
    encode = lambda x: {"z": model.encode(x), "y": model.predict(x)}  # noqa: E731
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        generator = torch.Generator().manual_seed(seed)
        test_rep = encode_dataset(encode, data, device=device, limit=max_images)
        train_rep = encode_dataset(encode, train, device=device, limit=max_images)
        y_test = data.targets[:len(test_rep["z"])]
        y_train = train.targets[:len(train_rep["z"])]
        out: dict[str, Any] = accuracies(test_rep["y"], y_test, model.label_space.names)
        out.update(leakage(train_rep["z"], y_train, test_rep["z"], y_test))

        judge = train_image_classifier(train, train.targets, seed=seed, device=device)
        x = data.pixels(torch.arange(len(y_test))).to(device)
        out["judge_accuracy"] = float(label_accuracy(judge.predict(x).cpu(), y_test).mean())
        y = y_test.to(device)
        target = other_classes(y, model.num_classes, generator)
        z = torch.cat([model.encode(x[i:i + 512], y[i:i + 512]) for i in range(0, len(y), 512)])
        judged = judge.predict(model.decode(z, target))
        out["intervention_success"] = float((judged == target).float().mean())

        distances = []
        for k in range(model.num_classes):
            ys = torch.full((DIVERSITY_SAMPLES,), k, device=device)
            distances.append(mean_pairwise_distance(
                model.decode(model.sample_latent(DIVERSITY_SAMPLES), ys)))
        out["diversity"] = sum(distances) / len(distances)
    return out
