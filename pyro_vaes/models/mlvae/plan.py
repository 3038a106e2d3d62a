"""The grouped plan: batches of groups of images that share a label (ML-VAE).

Groups are formed by the model's ``config.group_by`` (a class, factor or
attribute, through :func:`pyro_vaes.data.group_ids`) and cut by
:class:`pyro_vaes.data.GroupSampler` into chunks of ``config.group_size``
members (or of sizes drawn from ``[group_size, max_group_size]``). A batch is
``Batch(x=(G, n_max, C, H, W), mask=(G, n_max) bool, y=(G,) group labels)``;
padded members are blank images with mask False. ``Batch.size`` is G, so the
loss is averaged over groups.

Levels listed in the model's ``holdout_groups`` (``--holdout-classes``) never
reach training or validation: ``eval_batches(split, subset="heldout")`` gives
their groups, ``subset="all"`` every group. Evaluation groups are drawn from a
generator seeded with the run's seed, so every call sees the same groups.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import torch

from pyro_vaes.data import GroupSampler, group_ids
from pyro_vaes.errors import ConfigError
from pyro_vaes.models.base import Batch

SUBSETS = ("seen", "heldout", "all")


class GroupedPlan:
    """Batches of same-label groups for group-aware models (reads the model's config)."""

    def __init__(self, model: Any, splits: Any, *, batch_size: int,
                 device: torch.device | str = "cpu", seed: int = 0, **_: Any) -> None:
        config = model.config
        self.model = model
        self.splits = splits
        self.device = device
        self.seed = seed
        self.group_by = config.group_by
        low = config.group_size
        high = config.max_group_size or low
        self.group_size: int | tuple[int, int] = low if low == high else (low, high)
        self.groups_per_batch = config.groups_per_batch or max(1, batch_size // high)
        self.holdout = torch.tensor(sorted(model.holdout_groups),
                                    dtype=torch.long)
        self._check_group_sizes(low, config.max_group_size)
        self._check_groups_per_batch(config.groups_per_batch)

    def _check_group_sizes(self, low: int, high: int | None) -> None:
        """Refuse group sizes no training group reaches (they would silently be capped)."""
        _, ids = self.members("train", "seen")
        if len(ids) == 0:
            return
        largest = int(torch.unique(ids, return_counts=True)[1].max())
        for name, size in (("--group-size", low), ("--max-group-size", high)):
            if size is not None and size > largest:
                raise ConfigError(f"{name} {size} is larger than every group of --group-by "
                                  f"{self.group_by} in the training data (the largest has "
                                  f"{largest} images); choose {name} at most {largest}")

    def _check_groups_per_batch(self, asked: int | None) -> None:
        """Refuse more groups per batch than an epoch has (one batch would hold them all)."""
        if asked is None:
            return
        _, ids = self.members("train", "seen")
        low = self._sizes()[0]
        groups = sum(math.ceil(int(c) / low) for c in torch.unique(ids, return_counts=True)[1])
        if groups and asked > groups:
            raise ConfigError(f"--groups-per-batch {asked} is more than the {groups} groups of "
                              f"{low}+ images an epoch of the training data has; choose at "
                              f"most {groups}")

    def members(self, split: str, subset: str = "seen") -> tuple[torch.Tensor, torch.Tensor]:
        """Positions in ``split`` of the images of a subset of groups, and their group ids."""
        if subset not in SUBSETS:
            raise ValueError(f"subset {subset!r} is not one of {SUBSETS}")
        ids = group_ids(getattr(self.splits, split), self.group_by)
        held = torch.isin(ids, self.holdout)
        keep = {"seen": ~held, "heldout": held, "all": torch.ones_like(held)}[subset]
        positions = keep.nonzero().squeeze(1)
        return positions, ids[positions]

    def _batches(self, split: str, subset: str, generator: torch.Generator,
                 groups_per_batch: int) -> Iterator[Batch]:
        dataset = getattr(self.splits, split)
        positions, ids = self.members(split, subset)
        if len(ids) == 0:
            return
        sampler = GroupSampler(ids, group_size=self.group_size,
                               groups_per_batch=groups_per_batch, generator=generator)
        for chunk in sampler:
            index = positions[chunk.indices]
            x = dataset.pixels(index.flatten()).reshape(*index.shape, *dataset.image_shape)
            x = x * chunk.mask.to(x.device, non_blocking=True)[..., None, None, None]
            yield Batch(x, chunk.group_labels, chunk.mask).to(self.device)

    def train_batches(self, generator: torch.Generator) -> Iterator[Batch]:
        """One epoch: every training image of the seen groups once, in shuffled groups."""
        return self._batches("train", "seen", generator, self.groups_per_batch)

    def eval_batches(self, split: str = "val", batch_size: int | None = None,
                     subset: str = "seen") -> Iterator[Batch]:
        """The same groups of a split at every call (``batch_size`` counts images)."""
        per_batch = self.groups_per_batch
        if batch_size is not None:
            per_batch = max(1, batch_size // self._sizes()[1])
        return self._batches(split, subset, torch.Generator().manual_seed(self.seed), per_batch)

    def _sizes(self) -> tuple[int, int]:
        size = self.group_size
        return (size, size) if isinstance(size, int) else size

    def num_train_batches(self) -> int:
        """Batches per epoch (an upper bound when group sizes are drawn from a range)."""
        _, ids = self.members("train", "seen")
        low = self._sizes()[0]
        counts = torch.unique(ids, return_counts=True)[1]
        chunks = sum(math.ceil(int(c) / low) for c in counts)
        return math.ceil(chunks / self.groups_per_batch)
