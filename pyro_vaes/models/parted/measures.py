"""What a trained class-related VAE knows about its classes (added to ``pyro-vaes evaluate``).

Four groups (``--measures``), on the whole split, every figure with its ``_images`` count:

- ``accuracy``: ``classifier_accuracy``, accuracy of argmax q(c | x) on ``split``.
- ``probes``: ``u_probe_accuracy`` / ``z_probe_accuracy``, a linear probe of the class
  from the posterior mean of u (resp. z), fitted on every training image and scored
  on ``split``; u should be high and z near ``probe_chance`` (the majority rate).
- ``overlaps``: ``bc_max`` / ``bc_mean``, the largest and mean Bhattacharyya
  coefficient over the K(K-1)/2 pairs of the learned prior components;
  ``bc_pairs_above_tau`` counts the pairs the hinge still penalises (properties of
  the prior: 0 images).
- ``factors``: :func:`factor_measures`, the hook for disentanglement metrics on data
  with known factors (the shapes sets); the binned MIG of (u, z) for now.
"""

from __future__ import annotations

from typing import Any

import torch

from pyro_vaes.analysis.measure_request import MeasureRequest, with_image_counts
from pyro_vaes.analysis.probes import encode_dataset, linear_probe_accuracy, majority_rate
from pyro_vaes.inference.bhattacharyya import pairwise_bhattacharyya, upper_pairs


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


GROUPS = ("accuracy", "probes", "overlaps", "factors")


@torch.no_grad()
def parted_measures(model: Any, splits: Any, split: str = "test",
                    request: MeasureRequest | None = None) -> dict[str, Any]:
    """The groups of the module docstring that ``request`` asks for, as one flat dict."""
    request = request or MeasureRequest()
    model.eval()
    device = next(model.parameters()).device
    train, test = splits.train, getattr(splits, split)
    n, n_train = len(test), len(train)
    out: dict[str, Any] = {}
    features = {}
    if request.wants("accuracy", "probes", "factors"):
        features[split] = encode_dataset(model.representation, test, device=device)
    if request.wants("accuracy"):
        predicted = features[split]["c"].argmax(-1)
        out.update(with_image_counts(
            {"classifier_accuracy": float((predicted == test.targets).float().mean())}, n))
        request.done("accuracy")
    if request.wants("probes"):
        features["train"] = encode_dataset(model.representation, train, device=device)
        out["probe_chance"] = majority_rate(train.targets, test.targets)
        out["probe_chance_images"] = n
        for site in ("u", "z"):
            out[f"{site}_probe_accuracy"] = linear_probe_accuracy(
                features["train"][site], train.targets, features[split][site], test.targets)
            out[f"{site}_probe_accuracy_images"] = n
            out[f"{site}_probe_accuracy_train_images"] = n_train
        request.done("probes")
    if request.wants("overlaps"):
        out.update(with_image_counts(component_overlaps(model), 0))
        request.done("overlaps")
    if request.wants("factors"):
        out.update(with_image_counts(factor_measures(features[split], test), n))
        request.done("factors")
    return out
