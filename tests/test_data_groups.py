"""group_ids and GroupSampler: batches of same-group chunks, every example once."""

from __future__ import annotations

import pytest
import torch

from pyro_vaes.data import GroupBatch, GroupSampler, ImageDataset, group_ids
from pyro_vaes.errors import ConfigError

IDS = torch.tensor([3] * 23 + [7] * 10 + [0] * 1 + [5] * 16)[
    torch.randperm(50, generator=torch.Generator().manual_seed(0))
]


def epoch(sampler: GroupSampler) -> list[GroupBatch]:
    return list(sampler)


def check_epoch(batches: list[GroupBatch], ids: torch.Tensor) -> list[int]:
    """Assert coverage, purity and masks; return the chunk sizes."""
    members, sizes = [], []
    for batch in batches:
        assert batch.indices.dtype == torch.int64 and batch.mask.dtype == torch.bool
        assert batch.indices.shape == batch.mask.shape
        assert batch.group_labels.shape == (batch.indices.shape[0],)
        assert torch.all(batch.indices[~batch.mask] == 0)
        for row, mask, label in zip(batch.indices, batch.mask, batch.group_labels, strict=True):
            real = row[mask]
            assert torch.all(mask[: len(real)]) and len(real) >= 1
            assert torch.all(ids[real] == label)
            members.append(real)
            sizes.append(len(real))
        assert batch.mask.sum(1).max() == batch.indices.shape[1]
    assert torch.equal(torch.cat(members).sort().values, torch.arange(len(ids)))
    return sizes


def test_fixed_group_size() -> None:
    sampler = GroupSampler(
        IDS, group_size=4, groups_per_batch=3, generator=torch.Generator().manual_seed(1)
    )
    batches = epoch(sampler)
    sizes = check_epoch(batches, IDS)
    # chunks: 23 -> 5 + 1 partial, 10 -> 2 + 1, 1 -> 1, 16 -> 4: 14 chunks in 5 batches
    assert sorted(sizes) == sorted([4] * 5 + [3] + [4] * 2 + [2] + [1] + [4] * 4)
    assert len(sampler) == len(batches) == 5
    assert [b.indices.shape[0] for b in batches] == [3, 3, 3, 3, 2]


def test_variable_group_size() -> None:
    sampler = GroupSampler(
        IDS, group_size=(2, 5), groups_per_batch=4, generator=torch.Generator().manual_seed(2)
    )
    for _ in range(3):
        batches = epoch(sampler)
        sizes = check_epoch(batches, IDS)
        assert max(sizes) <= 5
        assert sum(1 for s in sizes if s < 2) <= 4  # only last chunks of groups may be short
        assert len(batches) <= len(sampler)
    assert len({tuple(s) for s in [check_epoch(epoch(sampler), IDS) for _ in range(3)]}) > 1


def test_reproducible_from_generator_state() -> None:
    gen = torch.Generator().manual_seed(3)
    sampler = GroupSampler(IDS, group_size=(1, 6), groups_per_batch=2, generator=gen)
    state = gen.get_state()
    first = epoch(sampler)
    gen.set_state(state)
    again = epoch(sampler)
    assert len(first) == len(again)
    for a, b in zip(first, again, strict=True):
        assert torch.equal(a.indices, b.indices) and torch.equal(a.mask, b.mask)
        assert torch.equal(a.group_labels, b.group_labels)


@pytest.mark.parametrize(("size", "per_batch"), [(0, 2), ((3, 2), 2), ((0, 4), 2), (2, 0)])
def test_bad_sizes(size: int | tuple[int, int], per_batch: int) -> None:
    with pytest.raises(ConfigError) as err:
        GroupSampler(IDS, group_size=size, groups_per_batch=per_batch)
    assert "\n" not in str(err.value)


def test_group_ids_keys() -> None:
    data = ImageDataset(
        name="toy",
        images=torch.zeros(4, 1, 2, 2, dtype=torch.uint8),
        targets=torch.tensor([1, 0, 1, 0]),
        class_names=["a", "b"],
        factors=torch.tensor([[0, 2], [1, 2], [0, 1], [1, 0]]),
        factor_names=["shape", "size"],
        factor_sizes=[2, 3],
        attributes=torch.tensor([[1.0], [0.0], [0.0], [1.0]]),
        attribute_names=["smiling"],
    )
    assert torch.equal(group_ids(data, "class"), torch.tensor([1, 0, 1, 0]))
    assert torch.equal(group_ids(data, "size"), torch.tensor([2, 2, 1, 0]))
    smiling = group_ids(data, "smiling")
    assert smiling.dtype == torch.int64 and torch.equal(smiling, torch.tensor([1, 0, 0, 1]))
    with pytest.raises(ConfigError, match="class, shape, size, smiling") as err:
        group_ids(data, "colour")
    assert "\n" not in str(err.value) and "--group-by" in str(err.value)
    unlabelled = ImageDataset(name="bare", images=data.images)
    with pytest.raises(ConfigError, match="no labels"):
        group_ids(unlabelled, "class")
