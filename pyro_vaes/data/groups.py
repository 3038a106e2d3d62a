"""Group ids and the sampler of same-group batches for group-aware models."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch.nn.utils.rnn import pad_sequence

from pyro_vaes.errors import ConfigError

from .dataset import ImageDataset


def group_ids(dataset: ImageDataset, by: str) -> torch.Tensor:
    """Group id (N,) of every example: ``by`` is "class", a factor name or an attribute name."""
    if by == "class" and dataset.targets is not None:
        return dataset.targets.to(torch.long)
    if dataset.factors is not None and dataset.factor_names and by in dataset.factor_names:
        return dataset.factors[:, dataset.factor_names.index(by)].to(torch.long)
    names = dataset.attribute_names
    if dataset.attributes is not None and names and by in names:
        return dataset.attributes[:, names.index(by)].to(torch.long)
    valid = (["class"] if dataset.targets is not None else []) + list(dataset.factor_names or [])
    valid += list(dataset.attribute_names or [])
    choices = ", ".join(valid) if valid else "none, this data set has no labels"
    raise ConfigError(
        f"--group-by {by!r}: unknown key for data set {dataset.name}; choose one of: {choices}"
    )


@dataclass
class GroupBatch:
    """A batch of groups: member positions padded to the largest group."""

    indices: torch.Tensor  # (G, n_max) int64, padding entries are 0
    mask: torch.Tensor  # (G, n_max) bool, True for real members
    group_labels: torch.Tensor  # (G,) int64, the group id of each row


def _check_sizes(group_size: int | tuple[int, int], groups_per_batch: int) -> tuple[int, int]:
    low, high = (group_size, group_size) if isinstance(group_size, int) else group_size
    if low < 1 or low > high:
        raise ConfigError(
            f"--group-size {group_size}: need 1 <= min <= max; give e.g. 8 or (4, 16)"
        )
    if groups_per_batch < 1:
        raise ConfigError(
            f"--groups-per-batch {groups_per_batch}: must be at least 1; give a positive count"
        )
    return int(low), int(high)


class GroupSampler:
    """Batches of chunks of examples sharing a group id, every example once per epoch.

    Each epoch every group is shuffled and cut into chunks of ``group_size``
    members (or of sizes drawn uniformly from the inclusive range
    ``(low, high)``); a group's last chunk may be smaller.  Chunks are shuffled
    and yielded ``groups_per_batch`` at a time.  All randomness comes from
    ``generator`` and is drawn when ``iter`` is called.  ``len`` is exact for a
    fixed size and an upper bound (chunks of the smallest size) for a range.
    """

    def __init__(
        self,
        ids: torch.Tensor,
        *,
        group_size: int | tuple[int, int],
        groups_per_batch: int,
        generator: torch.Generator | None = None,
    ) -> None:
        self.low, self.high = _check_sizes(group_size, groups_per_batch)
        self.groups_per_batch = groups_per_batch
        self.generator = generator
        self.ids = torch.as_tensor(ids, dtype=torch.long).reshape(-1)
        self._order = torch.argsort(self.ids, stable=True)
        self._labels, self._counts = torch.unique_consecutive(
            self.ids[self._order], return_counts=True
        )

    def __len__(self) -> int:
        chunks = sum(math.ceil(int(c) / self.low) for c in self._counts)
        return math.ceil(chunks / self.groups_per_batch)

    def _chunk_sizes(self, count: int) -> list[int]:
        if self.low == self.high:
            full, rest = divmod(count, self.low)
            return [self.low] * full + ([rest] if rest else [])
        draws = torch.randint(
            self.low, self.high + 1, (math.ceil(count / self.low),), generator=self.generator
        )
        ends = torch.cumsum(draws, 0)
        last = int(torch.searchsorted(ends, count))
        sizes = draws[: last + 1].tolist()
        sizes[-1] = count - (int(ends[last - 1]) if last > 0 else 0)
        return sizes

    def _chunks(self) -> tuple[list[torch.Tensor], torch.Tensor]:
        members, labels = [], []
        start = 0
        for label, count in zip(self._labels.tolist(), self._counts.tolist(), strict=True):
            group = self._order[start : start + count]
            start += count
            group = group[torch.randperm(count, generator=self.generator)]
            pieces = torch.split(group, self._chunk_sizes(count))
            members.extend(pieces)
            labels.extend([label] * len(pieces))
        perm = torch.randperm(len(members), generator=self.generator)
        return [members[i] for i in perm.tolist()], torch.tensor(labels, dtype=torch.long)[perm]

    def __iter__(self) -> Iterator[GroupBatch]:
        members, labels = self._chunks()
        step = self.groups_per_batch
        return (
            self._batch(members[s : s + step], labels[s : s + step])
            for s in range(0, len(members), step)
        )

    @staticmethod
    def _batch(members: list[torch.Tensor], labels: torch.Tensor) -> GroupBatch:
        indices = pad_sequence(members, batch_first=True, padding_value=0)
        lengths = torch.tensor([len(m) for m in members])
        mask = torch.arange(indices.shape[1])[None, :] < lengths[:, None]
        return GroupBatch(indices=indices, mask=mask, group_labels=labels)
