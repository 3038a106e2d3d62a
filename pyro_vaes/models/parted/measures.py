"""What a trained class-related VAE knows about its classes (added to ``pyro-vaes evaluate``).

- ``classifier_accuracy``: accuracy of argmax q(c | x) on ``split``.
- ``u_probe_accuracy`` / ``z_probe_accuracy``: a linear probe of the class from the
  posterior mean of u (resp. z), trained on the training split and scored on
  ``split``; u should be high and z near ``probe_chance`` (the majority rate).
- ``bc_max`` / ``bc_mean``: the largest and mean Bhattacharyya coefficient over the
  K(K-1)/2 pairs of the learned prior components; ``bc_pairs_above_tau`` counts the
  pairs the hinge still penalises.
- :func:`factor_measures` is the hook for disentanglement metrics on data with
  known factors (the shapes sets); it reports the binned MIG of (u, z) for now.
"""

from __future__ import annotations

from typing import Any

import torch

from pyro_vaes.analysis.probes import encode_dataset, linear_probe_accuracy, majority_rate
from pyro_vaes.inference.bhattacharyya import pairwise_bhattacharyya, upper_pairs


def _limit(dataset: Any, limit: int, seed: int = 1) -> Any:
    """A seeded subset of at most ``limit`` images."""
    if len(dataset) <= limit:
        return dataset
    keep = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed))[:limit]
    return dataset.subset(keep.sort()[0])


def component_overlaps(model: Any) -> dict[str, float]:
    """bc_max, bc_mean and the number of pairs above tau for the prior's components."""
    prior = model.u_prior
    pairs = upper_pairs(pairwise_bhattacharyya(prior.means, prior.scales ** 2))
    if pairs.numel() == 0:
        return {"bc_max": 0.0, "bc_mean": 0.0, "bc_pairs_above_tau": 0}
    return {"bc_max": float(pairs.max()), "bc_mean": float(pairs.mean()),
            "bc_pairs_above_tau": int((pairs > model.config.tau).sum())}


def factor_measures(representation: dict[str, torch.Tensor], dataset: Any) -> dict[str, float]:
    """Hook for disentanglement metrics on data with known factors ({} without factors)."""
    factors = getattr(dataset, "factors", None)
    if factors is None:
        return {}
    from pyro_vaes.analysis.metrics import mig

    codes = torch.cat([representation["u"], representation["z"]], dim=-1)
    return {"mig_uz": mig(codes, factors)}


@torch.no_grad()
def parted_measures(model: Any, splits: Any, split: str = "test", *,
                    probe_limit: int = 10000) -> dict[str, Any]:
    """The measures listed in the module docstring, as one flat dict."""
    model.eval()
    device = next(model.parameters()).device
    train = _limit(splits.train, probe_limit)
    test = _limit(getattr(splits, split), probe_limit)
    features = {part: encode_dataset(model.representation, data, device=device)
                for part, data in (("train", train), (split, test))}
    labels = {"train": train.targets, split: test.targets}
    predicted = features[split]["c"].argmax(-1)
    out: dict[str, Any] = {
        "classifier_accuracy": float((predicted == labels[split]).float().mean()),
        "probe_chance": majority_rate(labels["train"], labels[split]),
    }
    for site in ("u", "z"):
        out[f"{site}_probe_accuracy"] = linear_probe_accuracy(
            features["train"][site], labels["train"], features[split][site], labels[split])
    out.update(component_overlaps(model))
    out.update(factor_measures(features[split], test))
    return out
