"""Training plans: how a model's data is cut into batches.

A plan turns :class:`pyro_vaes.data.DataSplits` into :class:`Batch` objects:

- ``UnsupervisedPlan``: shuffled batches of images (labels attached when the
  data has them, for evaluation; unsupervised models ignore them).
- ``SemiSupervisedPlan``: a labelled subset (``--labels N`` or
  ``--labelled-fraction F``) and the unlabelled rest; one labelled batch is
  interleaved after every ``supervised_every`` unlabelled batches, the
  labelled batches cycling so that every labelled image is seen each epoch.

Every shuffle draws from the one ``torch.Generator`` the trainer passes in,
so saving that generator's state makes an epoch reproducible on resume.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import torch

from pyro_vaes.data import index_batches, labelled_indices
from pyro_vaes.models.base import Batch
from pyro_vaes.training.grouped import GroupedPlan


def labels_of(dataset: Any, kind: str | None) -> torch.Tensor | None:
    """The label tensor a model trains on: class targets or binary attributes."""
    if kind == "attributes":
        return dataset.attributes
    if kind == "targets" or kind is None:
        return dataset.targets
    raise ValueError(f"unknown label kind {kind!r}")


class UnsupervisedPlan:
    """Shuffled batches of every training image."""

    def __init__(self, model: Any, splits: Any, *, batch_size: int,
                 device: torch.device | str = "cpu", **_: Any) -> None:
        self.model = model
        self.splits = splits
        self.batch_size = batch_size
        self.device = device
        self.label_kind = getattr(model, "label_kind", None)

    def _batch(self, dataset: Any, idx: torch.Tensor, labelled: bool = True) -> Batch:
        labels = labels_of(dataset, self.label_kind)
        y = labels[idx] if (labels is not None and labelled) else None
        return Batch(dataset.pixels(idx), y).to(self.device)

    def train_batches(self, generator: torch.Generator) -> Iterator[Batch]:
        """One epoch of training batches."""
        train = self.splits.train
        for idx in index_batches(len(train), self.batch_size, shuffle=True, generator=generator):
            yield self._batch(train, idx)

    def eval_batches(self, split: str = "val", batch_size: int | None = None) -> Iterator[Batch]:
        """Batches of a split in order, labels attached where the data has them."""
        dataset = getattr(self.splits, split)
        for idx in index_batches(len(dataset), batch_size or self.batch_size, shuffle=False):
            yield self._batch(dataset, idx)

    def num_train_batches(self) -> int:
        """Batches per epoch."""
        return math.ceil(len(self.splits.train) / self.batch_size)


class SemiSupervisedPlan(UnsupervisedPlan):
    """Labelled and unlabelled batches interleaved; each epoch sees every labelled image."""

    def __init__(self, model: Any, splits: Any, *, batch_size: int,
                 device: torch.device | str = "cpu", labels: int | None = None,
                 labelled_fraction: float | None = None, seed: int = 0,
                 supervised_every: int = 1, **_: Any) -> None:
        super().__init__(model, splits, batch_size=batch_size, device=device)
        targets = labels_of(splits.train, self.label_kind)
        if targets is None:
            raise ValueError("a semi-supervised plan needs labelled training data")
        n = len(splits.train)
        if labels is None and labelled_fraction is None:
            self.labelled = torch.arange(n)
        else:
            self.labelled = labelled_indices(targets, count=labels, fraction=labelled_fraction,
                                             seed=seed)
        is_unlabelled = torch.ones(n, dtype=torch.bool)
        is_unlabelled[self.labelled] = False
        self.unlabelled = is_unlabelled.nonzero().squeeze(1)
        self.supervised_every = getattr(getattr(model, "config", None), "supervised_every",
                                        supervised_every)

    def train_batches(self, generator: torch.Generator) -> Iterator[Batch]:
        train = self.splits.train
        observe = getattr(self.model, "observe_labelled", None)
        if observe is not None:  # e.g. the CCVAE's p(y): label frequencies of the labelled subset
            observe(labels_of(train, self.label_kind)[self.labelled])
        sup = [self.labelled[i] for i in index_batches(len(self.labelled), self.batch_size,
                                                        shuffle=True, generator=generator)]
        unsup = [self.unlabelled[i] for i in index_batches(len(self.unlabelled),
                                                            self.batch_size, shuffle=True,
                                                            generator=generator)]
        seen, k = 0, 0
        for step, idx in enumerate(unsup):
            yield self._batch(train, idx, labelled=False)
            if (step + 1) % self.supervised_every == 0:
                yield self._batch(train, sup[k % len(sup)])
                k += 1
                seen = min(k, len(sup))
        for idx in sup[seen:]:
            yield self._batch(train, idx)

    def num_train_batches(self) -> int:
        sup = math.ceil(len(self.labelled) / self.batch_size)
        unsup = math.ceil(len(self.unlabelled) / self.batch_size)
        return unsup + max(sup, unsup // self.supervised_every)


PLANS: dict[str, type[UnsupervisedPlan]] = {
    "unsupervised": UnsupervisedPlan,
    "semi-supervised": SemiSupervisedPlan,
    "grouped": GroupedPlan,
}
