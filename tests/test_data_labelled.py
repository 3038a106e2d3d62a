"""labelled_indices: the seeded labelled subset for semi-supervised training."""

from __future__ import annotations

import pytest
import torch

from pyro_vaes.data import labelled_indices
from pyro_vaes.errors import ConfigError

TARGETS = torch.arange(1000) % 10  # 100 per class


def test_count_is_balanced_over_classes() -> None:
    chosen = labelled_indices(TARGETS, count=100, seed=0)
    assert chosen.dtype == torch.int64 and len(chosen) == 100
    assert torch.equal(chosen, chosen.sort().values)
    assert len(chosen.unique()) == 100
    assert torch.equal(torch.bincount(TARGETS[chosen]), torch.full((10,), 10))


def test_remainder_is_spread() -> None:
    chosen = labelled_indices(TARGETS, count=107, seed=4)
    counts = torch.bincount(TARGETS[chosen], minlength=10)
    assert int(counts.sum()) == 107
    assert set(counts.tolist()) == {10, 11}


def test_small_classes_give_what_they_have() -> None:
    targets = torch.tensor([0] * 2 + [1] * 50 + [2] * 50)
    counts = torch.bincount(targets[labelled_indices(targets, count=30)], minlength=3)
    assert counts.tolist() == [2, 14, 14]


def test_seeded_reproducibility() -> None:
    first = labelled_indices(TARGETS, count=50, seed=7)
    assert torch.equal(first, labelled_indices(TARGETS, count=50, seed=7))
    assert not torch.equal(first, labelled_indices(TARGETS, count=50, seed=8))


def test_fraction() -> None:
    chosen = labelled_indices(TARGETS, fraction=0.05, seed=1)
    assert torch.equal(torch.bincount(TARGETS[chosen]), torch.full((10,), 5))
    assert torch.equal(labelled_indices(TARGETS, fraction=1.0), torch.arange(1000))
    assert torch.equal(labelled_indices(TARGETS, count=1000), torch.arange(1000))


def test_attributes_plain_random() -> None:
    attributes = (torch.rand(200, 5, generator=torch.Generator().manual_seed(0)) > 0.5).float()
    chosen = labelled_indices(attributes, count=30, seed=2)
    assert len(chosen) == 30 and len(chosen.unique()) == 30
    assert torch.equal(chosen, chosen.sort().values)
    assert int(chosen.max()) < 200
    assert torch.equal(chosen, labelled_indices(attributes, count=30, seed=2))


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"fraction": 0.0}, "--labelled-fraction 0.0"),
        ({"fraction": 1.5}, "--labelled-fraction 1.5"),
        ({"fraction": -0.1}, r"\(0, 1\]"),
        ({"count": 0}, "--labels 0"),
        ({"count": 1001}, "--labels 1001"),
        ({}, "exactly one"),
        ({"count": 5, "fraction": 0.5}, "exactly one"),
    ],
)
def test_bad_requests(kwargs: dict, pattern: str) -> None:
    with pytest.raises(ConfigError, match=pattern) as err:
        labelled_indices(TARGETS, **kwargs)
    assert "\n" not in str(err.value)
