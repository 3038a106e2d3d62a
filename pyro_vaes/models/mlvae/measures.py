"""What a trained ML-VAE knows about its groups (added to ``pyro-vaes evaluate``).

Three groups (``--measures``): ``probes`` (the first item), ``accumulated_probe``
(the second) and ``heldout`` (the third, with ``--holdout-classes``), on the whole
split, every figure with its ``_images`` count (probes also ``_train_images``).

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

from pyro_vaes.analysis.measure_request import MeasureRequest, with_image_counts
from pyro_vaes.analysis.probes import encode_dataset, linear_probe_accuracy, majority_rate
from pyro_vaes.models.mlvae.plan import GroupedPlan

GROUPS = ("probes", "accumulated_probe", "heldout")


def _single_image_probes(model: Any, plan: GroupedPlan, splits: Any, split: str,
                         subset: str) -> dict[str, Any]:
    """Content and style probes from images encoded one by one."""
    device = next(model.parameters()).device
    features, labels = {}, {}
    for part in ("train", split):
        positions, ids = plan.members(part, subset)
        data = getattr(splits, part).subset(positions)
        features[part] = encode_dataset(model.representation, data, device=device)
        labels[part] = ids
    n, n_train = len(labels[split]), len(labels["train"])
    out: dict[str, Any] = {"probe_chance": majority_rate(labels["train"], labels[split]),
                           "probe_chance_images": n}
    for site, name in (("c", "content"), ("s", "style")):
        out[f"{name}_probe_accuracy"] = linear_probe_accuracy(
            features["train"][site], labels["train"], features[split][site], labels[split])
        out[f"{name}_probe_accuracy_images"] = n
        out[f"{name}_probe_accuracy_train_images"] = n_train
    return out


def _accumulated_probe(model: Any, plan: GroupedPlan, split: str, subset: str,
                       ) -> dict[str, Any]:
    """The content probe on groups formed by the true label, content accumulated."""
    features, labels, images = {}, {}, {}
    for part in ("train", split):
        rows, ys, count = [], [], 0
        for batch in plan.eval_batches(part, subset=subset):
            rows.append(model.group_representation(batch.x, batch.mask).cpu())
            ys.append(batch.y.cpu())
            count += int(batch.mask.sum())
        features[part], labels[part], images[part] = torch.cat(rows), torch.cat(ys), count
    key = "accumulated_content_probe_accuracy"
    return {key: linear_probe_accuracy(features["train"], labels["train"], features[split],
                                       labels[split]),
            f"{key}_images": images[split], f"{key}_train_images": images["train"]}


def group_log_likelihoods(model: Any, plan: GroupedPlan, split: str, subset: str,
                          num_samples: int = 100) -> dict[str, float]:
    """Group ELBO and importance-weighted log p(X_g) per group, and images per group."""
    batches = list(plan.eval_batches(split, subset=subset))
    elbo, iw, groups = model.log_likelihood_sums(batches, num_samples)
    images = sum(int(batch.mask.sum()) for batch in batches)
    groups = max(groups, 1)
    return with_image_counts({"group_elbo": elbo / groups, "group_iw_log_likelihood": iw / groups,
                              "images_per_group": images / groups}, images)


@torch.no_grad()
def mlvae_measures(model: Any, splits: Any, split: str = "test",
                   request: MeasureRequest | None = None, *,
                   num_samples: int = 100) -> dict[str, Any]:
    """The groups of the module docstring that ``request`` asks for, as one flat dict."""
    request = request or MeasureRequest()
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
    if request.wants("probes"):
        out.update(_single_image_probes(model, plan, splits, split, "seen"))
        request.done("probes")
    if request.wants("accumulated_probe"):
        out.update(_accumulated_probe(model, plan, split, "seen"))
        request.done("accumulated_probe")
    if request.wants("heldout"):
        if model.holdout_groups:
            out["heldout_levels"] = ",".join(str(k) for k in model.holdout_groups)
            for key, value in group_log_likelihoods(model, plan, split, "seen",
                                                    num_samples).items():
                out[f"seen_{key}"] = value
            held = _single_image_probes(model, plan, splits, split, "heldout")
            held.update(_accumulated_probe(model, plan, split, "heldout"))
            held.update(group_log_likelihoods(model, plan, split, "heldout", num_samples))
            out.update({f"heldout_{key}": value for key, value in held.items()})
        request.done("heldout")
    return out
