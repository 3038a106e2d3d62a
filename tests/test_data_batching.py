"""index_batches: index tensors over in-memory data, reproducible from the generator."""

from __future__ import annotations

import pytest
import torch

from pyro_vaes.data import index_batches
from pyro_vaes.errors import ConfigError


def test_covers_every_index_once() -> None:
    gen = torch.Generator().manual_seed(0)
    batches = list(index_batches(103, 10, shuffle=True, generator=gen))
    assert [len(b) for b in batches] == [10] * 10 + [3]
    assert all(b.dtype == torch.int64 for b in batches)
    every = torch.cat(batches)
    assert torch.equal(every.sort().values, torch.arange(103))
    assert not torch.equal(every, torch.arange(103))


def test_sequential_and_drop_last() -> None:
    batches = list(index_batches(25, 10, shuffle=False, drop_last=True))
    assert len(batches) == 2
    assert torch.equal(torch.cat(batches), torch.arange(20))
    assert list(index_batches(0, 4, shuffle=True)) == []


def test_same_generator_state_same_order() -> None:
    gen = torch.Generator().manual_seed(5)
    state = gen.get_state()
    first = torch.cat(list(index_batches(50, 8, shuffle=True, generator=gen)))
    second = torch.cat(list(index_batches(50, 8, shuffle=True, generator=gen)))
    assert not torch.equal(first, second)
    gen.set_state(state)
    again = torch.cat(list(index_batches(50, 8, shuffle=True, generator=gen)))
    assert torch.equal(first, again)


def test_only_the_given_generator_is_used() -> None:
    torch.manual_seed(0)
    before = torch.get_rng_state()
    list(index_batches(40, 7, shuffle=True, generator=torch.Generator().manual_seed(1)))
    assert torch.equal(before, torch.get_rng_state())


def test_bad_batch_size() -> None:
    with pytest.raises(ConfigError, match="--batch-size 0"):
        index_batches(10, 0, shuffle=False)
