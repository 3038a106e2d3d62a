"""Training plans: how a model's data is cut into batches.

A plan turns :class:`pyro_vaes.data.DataSplits` into :class:`Batch` objects:

- ``UnsupervisedPlan``: shuffled batches of images (labels attached when the
  data has them, for evaluation; unsupervised models ignore them).
- ``SemiSupervisedPlan``: a labelled subset (``--labels N`` or
  ``--labelled-fraction F``) and the unlabelled rest. By default one epoch
  uses every labelled image exactly once and every unlabelled image once, the
  labelled batches spread evenly among the unlabelled ones, so an epoch's
  gradient is that of sum_labelled L(x, y) + sum_unlabelled U(x), the papers'
  objective. ``--labelled-repeats N`` uses each labelled image N times per epoch
  (the labelled term weighted N times); ``--labelled-batch-every N`` is the
  oversampling schedule of earlier versions: one labelled batch after every N
  unlabelled batches, cycling through the labelled set (see docs/design.md).

Every shuffle draws from the one ``torch.Generator`` the trainer passes in,
so saving that generator's state makes an epoch reproducible on resume.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import torch

from pyro_vaes.data import index_batches, labelled_indices
from pyro_vaes.errors import ConfigError
from pyro_vaes.models.base import Batch
from pyro_vaes.models.mlvae.plan import GroupedPlan


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
        self.label_kind = model.label_kind

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


def spread_evenly(num_unlabelled: int, num_labelled: int) -> list[bool]:
    """The order of an epoch's batches, True for a labelled one: ``num_labelled`` labelled
    batches spread evenly among ``num_unlabelled`` unlabelled ones.

    Batch i of a kind of n batches sits at time (i + 1/2) / n; the two kinds are merged by
    time (unlabelled first on ties), so neither kind bunches at either end of the epoch.
    """
    times = [((i + 0.5) / num_unlabelled, 0) for i in range(num_unlabelled)]
    times += [((i + 0.5) / num_labelled, 1) for i in range(num_labelled)]
    return [kind == 1 for _, kind in sorted(times)]


def check_labelled_schedule(labelled_repeats: int, labelled_batch_every: int | None) -> None:
    """Refuse two labelled schedules at once."""
    if labelled_repeats != 1 and labelled_batch_every is not None:
        raise ConfigError(f"--labelled-repeats {labelled_repeats} and --labelled-batch-every "
                          f"{labelled_batch_every} are two different schedules; give only one")


class SemiSupervisedPlan(UnsupervisedPlan):
    """Labelled and unlabelled batches interleaved (the schedule: see the module docstring)."""

    def __init__(self, model: Any, splits: Any, *, batch_size: int,
                 device: torch.device | str = "cpu", labels: int | None = None,
                 labelled_fraction: float | None = None, seed: int = 0,
                 labelled_repeats: int = 1, labelled_batch_every: int | None = None,
                 labels_in_main_loss: bool = True, **_: Any) -> None:
        super().__init__(model, splits, batch_size=batch_size, device=device)
        check_labelled_schedule(labelled_repeats, labelled_batch_every)
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
        if labels_in_main_loss:
            is_unlabelled[self.labelled] = False
        self.unlabelled = is_unlabelled.nonzero().squeeze(1)
        self.labels_in_main_loss = labels_in_main_loss
        self.labelled_repeats = labelled_repeats
        self.labelled_batch_every = labelled_batch_every

    def _shuffled(self, indices: torch.Tensor, generator: torch.Generator) -> list[torch.Tensor]:
        return [indices[i] for i in index_batches(len(indices), self.batch_size, shuffle=True,
                                                  generator=generator)]

    def train_batches(self, generator: torch.Generator) -> Iterator[Batch]:
        train = self.splits.train
        # the model's hook, e.g. the CCVAE's p(y): label frequencies of the labelled subset
        self.model.observe_labelled(labels_of(train, self.label_kind)[self.labelled],
                                    num_train=len(train))
        passes = 1 if self.labelled_batch_every is not None else self.labelled_repeats
        if not self.labels_in_main_loss:  # labels only reach the supervised steps
            passes = 0
        sup = [idx for _ in range(passes) for idx in self._shuffled(self.labelled, generator)]
        unsup = self._shuffled(self.unlabelled, generator)
        if self.labelled_batch_every is not None:
            yield from self._cycled(train, sup, unsup)
            return
        sup_batches, unsup_batches = iter(sup), iter(unsup)
        for labelled in spread_evenly(len(unsup), len(sup)):
            if labelled:
                yield self._batch(train, next(sup_batches))
            else:
                yield self._batch(train, next(unsup_batches), labelled=False)

    def _cycled(self, train: Any, sup: list[torch.Tensor],
                unsup: list[torch.Tensor]) -> Iterator[Batch]:
        """One labelled batch after every ``labelled_batch_every`` unlabelled ones, cycling;
        labelled batches not reached by then follow at the end."""
        seen, k = 0, 0
        for step, idx in enumerate(unsup):
            yield self._batch(train, idx, labelled=False)
            if (step + 1) % self.labelled_batch_every == 0:
                yield self._batch(train, sup[k % len(sup)])
                k += 1
                seen = min(k, len(sup))
        for idx in sup[seen:]:
            yield self._batch(train, idx)

    def random_labelled_batch(self, size: int, generator: torch.Generator) -> Batch:
        """``size`` labelled images drawn without replacement (all of them when there are
        fewer), for a supervised step outside the main objective."""
        order = torch.randperm(len(self.labelled), generator=generator)[:size]
        return self._batch(self.splits.train, self.labelled[order])

    def num_train_batches(self) -> int:
        if not self.labels_in_main_loss:
            return math.ceil(len(self.unlabelled) / self.batch_size)
        sup = math.ceil(len(self.labelled) / self.batch_size)
        unsup = math.ceil(len(self.unlabelled) / self.batch_size)
        if self.labelled_batch_every is not None:
            return unsup + max(sup, unsup // self.labelled_batch_every)
        return unsup + sup * self.labelled_repeats


PLANS: dict[str, type[UnsupervisedPlan]] = {
    "unsupervised": UnsupervisedPlan,
    "semi-supervised": SemiSupervisedPlan,
    "grouped": GroupedPlan,
}
