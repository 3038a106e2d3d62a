"""What a trained ML-VAE knows about its groups (added to ``pyro-vaes evaluate``).

- ``content_probe_accuracy`` / ``style_probe_accuracy``: a linear probe of the
  grouping label from the content (style) posterior mean of *single* images,
  each encoded alone (no grouping by the true label at test time); trained on
  the training split, scored on ``split``. ``probe_chance`` is the majority rate.
- ``accumulated_content_probe_accuracy``: the same probe on the accumulated
  content of groups formed *by the true label* (the evaluation groups), trained
  on such groups of the training split: evidence accumulation given the
  grouping, reported separately because it uses the label to form the groups.
- With ``--holdout-classes``: the same figures restricted to the held-out
  levels (``heldout_*``; the probes are trained on training-split images of
  those levels, which the model never saw), and their group ELBO and
  importance-weighted log-likelihood per group (``heldout_group_elbo``,
  ``heldout_group_iw_log_likelihood``), beside the same on the seen levels.
"""

from __future__ import annotations

from typing import Any

import torch

from pyro_vaes.analysis.probes import encode_dataset, linear_probe_accuracy, majority_rate
from pyro_vaes.training.grouped import GroupedPlan


def _limit(count: int, limit: int, seed: int) -> torch.Tensor:
    """A seeded, ordered selection of at most ``limit`` of ``count`` rows."""
    if count <= limit:
        return torch.arange(count)
    return torch.randperm(count, generator=torch.Generator().manual_seed(seed))[:limit].sort()[0]


def _single_image_probes(model: Any, plan: GroupedPlan, splits: Any, split: str, subset: str,
                         limit: int) -> dict[str, float]:
    """Content and style probes from images encoded one by one."""
    device = next(model.parameters()).device
    features, labels = {}, {}
    for part in ("train", split):
        positions, ids = plan.members(part, subset)
        keep = _limit(len(positions), limit, seed=1)
        data = getattr(splits, part).subset(positions[keep])
        features[part] = encode_dataset(model.representation, data, device=device)
        labels[part] = ids[keep]
    out = {"probe_chance": majority_rate(labels["train"], labels[split])}
    for site, name in (("c", "content"), ("s", "style")):
        out[f"{name}_probe_accuracy"] = linear_probe_accuracy(
            features["train"][site], labels["train"], features[split][site], labels[split])
    return out


def _accumulated_probe(model: Any, plan: GroupedPlan, split: str, subset: str,
                       ) -> dict[str, float]:
    """The content probe on groups formed by the true label, content accumulated."""
    features, labels = {}, {}
    for part in ("train", split):
        rows, ys = [], []
        for batch in plan.eval_batches(part, subset=subset):
            rows.append(model.group_representation(batch.x, batch.mask).cpu())
            ys.append(batch.y.cpu())
        features[part], labels[part] = torch.cat(rows), torch.cat(ys)
    return {"accumulated_content_probe_accuracy": linear_probe_accuracy(
        features["train"], labels["train"], features[split], labels[split])}


def group_log_likelihoods(model: Any, plan: GroupedPlan, split: str, subset: str,
                          num_samples: int = 100) -> dict[str, float]:
    """Group ELBO and importance-weighted log p(X_g) per group, and images per group."""
    batches = list(plan.eval_batches(split, subset=subset))
    elbo, iw, groups = model.log_likelihood_sums(batches, num_samples)
    images = sum(int(batch.mask.sum()) for batch in batches)
    groups = max(groups, 1)
    return {"group_elbo": elbo / groups, "group_iw_log_likelihood": iw / groups,
            "images_per_group": images / groups}


@torch.no_grad()
def mlvae_measures(model: Any, splits: Any, split: str = "test", *, probe_limit: int = 10000,
                   num_samples: int = 100) -> dict[str, Any]:
    """The measures listed in the module docstring, as one flat dict."""
    model.eval()
    config = model.config
    plan = GroupedPlan(model, splits, batch_size=256, device=next(model.parameters()).device)
    high = config.max_group_size or config.group_size
    out: dict[str, Any] = {
        "data_point": f"group ELBO: one data point is a group of up to {high} {split} images "
                      f"sharing '{config.group_by}'"
                      + (" (held-out levels excluded)" if model.holdout_groups else ""),
        "group_by": config.group_by,
        "accumulation": config.accumulation,
    }
    out.update(_single_image_probes(model, plan, splits, split, "seen", probe_limit))
    out.update(_accumulated_probe(model, plan, split, "seen"))
    if model.holdout_groups:
        out["heldout_levels"] = ",".join(str(k) for k in model.holdout_groups)
        for key, value in group_log_likelihoods(model, plan, split, "seen", num_samples).items():
            out[f"seen_{key}"] = value
        held = _single_image_probes(model, plan, splits, split, "heldout", probe_limit)
        held.update(_accumulated_probe(model, plan, split, "heldout"))
        held.update(group_log_likelihoods(model, plan, split, "heldout", num_samples))
        out.update({f"heldout_{key}": value for key, value in held.items()})
    return out
