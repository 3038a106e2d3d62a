"""The model's own interventions as figures, and its confusion matrix on the test split.

Interventions are the ones each model registers (:mod:`pyro_vaes.interventions`; CCVAE
flips, swaps and conditional generation, M2 class-conditional samples, ML-VAE content and
style swaps, the class-related model's components and swaps), drawn into a temporary
directory by the same functions as ``pyro-vaes intervene`` and embedded; traversals are
left to the latent explorer.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from pyro_vaes.interventions import InterventionOptions, intervention
from pyro_vaes.report.content import Confusion, Grid
from pyro_vaes.report.png import file_uri

KINDS = ("generate", "swap", "flip", "interpolate")
"""Interventions a report shows, where the model has them."""

_TITLES = {
    "generate": "Conditional generation",
    "swap": "Swaps",
    "flip": "Label interventions (flips)",
    "interpolate": "Interpolation",
}


def report_kinds(run: Any) -> list[str]:
    """The interventions of :data:`KINDS` the run's model registers."""
    return [kind for kind in KINDS if kind in run.model.interventions()]


def intervention_grids(run: Any, seed: int, tick: Callable[[], None] = lambda: None
                       ) -> list[Grid]:
    """Every figure the model's interventions of :func:`report_kinds` draw (the defaults of
    ``pyro-vaes intervene``, with ``seed``)."""
    options = InterventionOptions(seed=seed)
    grids = []
    with tempfile.TemporaryDirectory() as staging:
        for kind in report_kinds(run):
            out = Path(staging) / kind
            out.mkdir()
            with torch.random.fork_rng(devices=[]):
                paths = intervention(run.model_name, kind)(run, out, options)
            for path in paths:
                title = _TITLES[kind] if len(paths) == 1 else f"{_TITLES[kind]}: {path.stem}"
                grids.append(Grid(kind, title, file_uri(path)))
            tick()
    return grids


@torch.no_grad()
def confusion(run: Any, batch_size: int = 500) -> Confusion | None:
    """Predicted against true labels on the whole test split, for models that predict labels
    (None for the others): a K x K count matrix (rows: true class) for classes, per-attribute
    accuracies for binary attributes."""
    model = run.model.eval()
    if not model.predicts_labels:
        return None
    test = run.splits.test
    predicted = torch.cat([model.predict(test.pixels(torch.arange(
        start, min(start + batch_size, len(test)))).to(run.device)).cpu()
        for start in range(0, len(test), batch_size)])
    if predicted.dim() == 1:
        truth = test.targets
        k = run.splits.num_classes
        counts = torch.bincount(truth.long() * k + predicted.long(), minlength=k * k)
        names = run.splits.class_names or [str(c) for c in range(k)]
        matrix = counts.reshape(k, k)
        return Confusion(list(names), matrix.tolist(), len(test),
                         int(matrix.trace()) / len(test))
    truth = test.attributes
    per = (predicted == truth).float().mean(0)
    return Confusion(list(run.splits.attribute_names), [], len(test), float(per.mean()),
                     per_attribute=per.tolist())
