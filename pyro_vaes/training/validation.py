"""What the trainer measures on the validation split after every epoch.

- ``val_elbo``: the evidence lower bound itself, per data point, with the labels
  hidden: every site's ``poutine.scale`` undone (beta = 1, ML-VAE style weight 1)
  and every ``pyro.factor`` left out (the class-related model's Bhattacharyya
  penalty), estimated by the model's own ELBO estimator (y summed out where the
  model enumerates it).
- ``val_<term>``: each term the training objective adds to or uses instead of the
  ELBO, under its own name, from :meth:`LatentVariableModel.objective_terms`
  (e.g. ``val_beta_weighted_elbo``, ``val_bhattacharyya_penalty``,
  ``val_aux_classification``, ``val_supervised_bound``), per data point.
- ``val_accuracy``: for models that predict labels (``model.predict``), the
  fraction of validation labels predicted right (averaged over labels for binary
  attributes).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from typing import Any

import pyro.distributions as dist
import torch
from pyro import poutine
from pyro.poutine.messenger import Messenger

from pyro_vaes.inference.elbo import negative_elbo
from pyro_vaes.models.base import Batch


class _UnitScale(Messenger):
    """Reset every sample site's scale to 1 (undoes ``poutine.scale`` applied inside)."""

    def _process_message(self, msg: dict) -> None:
        if msg["type"] == "sample":
            msg["scale"] = 1.0


def _is_factor(msg: dict) -> bool:
    return msg["type"] == "sample" and isinstance(msg["fn"], dist.Unit)


def unpenalised(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` (a model or a guide) with every site at scale 1 and its ``pyro.factor`` sites
    hidden: what remains is the generative story (or the guide) of the ELBO itself."""
    def wrapped(*args: Any) -> Any:
        with poutine.block(hide_fn=_is_factor), _UnitScale():
            return fn(*args)
    return wrapped


def elbo_per_point(model: Any, elbo: Any, batch: Batch) -> torch.Tensor:
    """The ELBO (beta = 1, no penalties) of an unlabelled batch, per data point."""
    args = model.site_args(Batch(batch.x, None, batch.mask, batch.extra))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=RuntimeWarning,
                                message=".*possibly invalid dependency")
        return -negative_elbo(elbo, unpenalised(model.model), unpenalised(model.guide),
                              *args) / batch.size


def label_hits(predicted: torch.Tensor, labels: torch.Tensor) -> tuple[float, int]:
    """Correct predictions and predictions made (every label of every image counts once)."""
    hits = predicted.long() == labels.long()
    return float(hits.sum()), hits.numel()


@torch.no_grad()
def validation_record(model: Any, elbo: Any, batches: Iterable[Batch]) -> dict[str, float]:
    """``val_elbo``, the objective's own terms and, where the model predicts labels,
    ``val_accuracy``, each a mean over the batches' data points."""
    sums: dict[str, float] = {}
    count, hits, predictions = 0, 0.0, 0
    for batch in batches:
        sums["val_elbo"] = sums.get("val_elbo", 0.0) + float(elbo_per_point(model, elbo, batch)
                                                             ) * batch.size
        for name, value in model.objective_terms(elbo, batch).items():
            sums[f"val_{name}"] = sums.get(f"val_{name}", 0.0) + float(value) * batch.size
        count += batch.size
        if model.predicts_labels and batch.y is not None:
            h, n = label_hits(model.predict(batch.x), batch.y)
            hits, predictions = hits + h, predictions + n
    record = {key: value / max(count, 1) for key, value in sums.items()}
    if predictions:
        record["val_accuracy"] = hits / predictions
    return record

