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
- ``val_recon``, ``val_kl_<site>``, ``val_entropy_<site>``, ``val_supervised_ce``: the
  ELBO's terms, per data point, from one guide trace and one model replay per batch
  (:mod:`pyro_vaes.training.diagnostics`), drawn under a forked RNG so that the other
  figures are those of a run without them.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import Any

import torch

from pyro_vaes.inference.elbo import negative_elbo
from pyro_vaes.models.base import Batch
from pyro_vaes.training.diagnostics import diagnose, unpenalised

__all__ = ["add_diagnostics", "elbo_per_point", "label_hits", "unpenalised", "validation_record"]


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


def add_diagnostics(model: Any, batch: Batch, sums: dict[str, Any],
                    counts: dict[str, int]) -> None:
    """Add the batch's ELBO terms (:func:`pyro_vaes.training.diagnostics.diagnose`) to the
    running ``val_<term>`` sums and their counts of data points, drawing under a forked RNG
    (the batch's device included)."""
    devices = [batch.x.device] if batch.x.device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        for name, values in diagnose(model, batch).items():
            key = f"val_{name}"
            sums[key] = sums.get(key, 0.0) + values.double().sum()
            counts[key] = counts.get(key, 0) + values.numel()


@torch.no_grad()
def validation_record(model: Any, elbo: Any, batches: Iterable[Batch]) -> dict[str, float]:
    """``val_elbo``, the objective's own terms, the ELBO's terms (``val_recon``,
    ``val_kl_<site>``, ...) and, where the model predicts labels, ``val_accuracy``, each a
    mean over the batches' data points."""
    sums: dict[str, float] = {}
    diagnostics: dict[str, Any] = {}
    counts: dict[str, int] = {}
    count, hits, predictions = 0, 0.0, 0
    for batch in batches:
        add_diagnostics(model, batch, diagnostics, counts)
        sums["val_elbo"] = sums.get("val_elbo", 0.0) + float(elbo_per_point(model, elbo, batch)
                                                             ) * batch.size
        for name, value in model.objective_terms(elbo, batch).items():
            sums[f"val_{name}"] = sums.get(f"val_{name}", 0.0) + float(value) * batch.size
        count += batch.size
        if model.predicts_labels and batch.y is not None:
            h, n = label_hits(model.predict(batch.x), batch.y)
            hits, predictions = hits + h, predictions + n
    record = {key: value / max(count, 1) for key, value in sums.items()}
    record.update({key: float(value) / counts[key] for key, value in diagnostics.items()})
    if predictions:
        record["val_accuracy"] = hits / predictions
    return record

