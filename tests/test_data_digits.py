"""The default digits set, the registry and ImageDataset/DataSplits behaviour."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import torch

from pyro_vaes.data import (
    DataSplits,
    ImageDataset,
    dataset_description,
    list_datasets,
    load_dataset,
)
from pyro_vaes.data.digits import digits_dataset
from pyro_vaes.errors import ConfigError


@pytest.fixture(scope="module")
def digits() -> DataSplits:
    return load_dataset("digits")


def test_digits_shapes_and_ranges(digits: DataSplits) -> None:
    assert digits.image_shape == (1, 8, 8)
    assert digits.num_classes == 10
    assert digits.class_names == [str(k) for k in range(10)]
    for part in (digits.train, digits.val, digits.test):
        assert part.images.dtype == torch.uint8
        assert part.targets is not None and part.targets.dtype == torch.int64
        assert part.factors is None and part.attributes is None
    assert int(digits.train.images.max()) == 255
    assert int(digits.train.images.min()) == 0
    pixels = digits.train.pixels(torch.tensor([0, 1]))
    assert pixels.dtype == torch.float32 and pixels.shape == (2, 1, 8, 8)
    assert 0.0 <= float(pixels.min()) and float(pixels.max()) <= 1.0


def test_digits_split_sizes_and_stratification(digits: DataSplits) -> None:
    sizes = (len(digits.train), len(digits.val), len(digits.test))
    assert sizes == (1258, 180, 359)
    all_counts = sum(torch.bincount(p.targets, minlength=10) for p in digits.__dict__.values())
    for part, share in ((digits.train, 0.7), (digits.val, 0.1), (digits.test, 0.2)):
        counts = torch.bincount(part.targets, minlength=10)
        assert torch.all((counts - share * all_counts).abs() <= 1.5)


def test_digits_splits_partition_and_seeded(digits: DataSplits) -> None:
    parts = (digits.train, digits.val, digits.test)
    rows = Counter(tuple(r.tolist()) for p in parts for r in p.images.reshape(len(p), -1))
    full = digits_dataset().images
    assert rows == Counter(tuple(r.tolist()) for r in full.reshape(len(full), -1))
    same = load_dataset("digits", seed=0)
    assert torch.equal(same.test.images, digits.test.images)
    other = load_dataset("digits", seed=3)
    assert not torch.equal(other.test.images, digits.test.images)


def test_max_train_and_image_size() -> None:
    small = load_dataset("digits", max_train=50, image_size=16)
    assert len(small.train) == 50 and len(small.val) == 180
    assert small.image_shape == (1, 16, 16)
    assert torch.equal(torch.bincount(small.train.targets), torch.full((10,), 5))
    assert len(load_dataset("digits", max_train=10**6).train) == 1258
    with pytest.raises(ConfigError, match="--max-train 0"):
        load_dataset("digits", max_train=0)
    with pytest.raises(ConfigError, match="--image-size"):
        load_dataset("digits", image_size=0)


def test_registry() -> None:
    names = list_datasets()
    assert names[0] == "digits"
    expected = {"digits", "fashion-mnist", "mnist", "idx", "shapes", "shapes-small", "celeba"}
    assert expected | {"image-folder"} == set(names)
    for name in names:
        line = dataset_description(name)
        assert line and "\n" not in line
    with pytest.raises(ConfigError, match="unknown data set") as err:
        load_dataset("cifar")
    assert "\n" not in str(err.value) and "digits" in str(err.value)
    with pytest.raises(ConfigError):
        dataset_description("cifar")


def test_image_dataset_subset() -> None:
    data = ImageDataset(
        name="toy",
        images=torch.arange(4 * 2 * 2, dtype=torch.uint8).reshape(4, 1, 2, 2),
        targets=torch.tensor([0, 1, 0, 1]),
        class_names=["a", "b"],
        factors=torch.tensor([[0], [1], [2], [3]]),
        factor_names=["f"],
        factor_sizes=[4],
        attributes=torch.tensor([[0.0], [1.0], [1.0], [0.0]]),
        attribute_names=["x"],
    )
    part = data.subset(torch.tensor([3, 1]))
    assert len(part) == 2 and part.image_shape == (1, 2, 2) and part.num_classes == 2
    assert torch.equal(part.targets, torch.tensor([1, 1]))
    assert torch.equal(part.factors, torch.tensor([[3], [1]]))
    assert torch.equal(part.attributes, torch.tensor([[0.0], [1.0]]))
    assert torch.equal(part.images, data.images[[3, 1]])
    assert part.factor_names == ["f"] and part.attribute_names == ["x"]
    assert torch.allclose(data.pixels(), data.images.float() / 255)


def test_the_digits_read_directly_equal_scikit_learns() -> None:
    from sklearn.datasets import load_digits

    from pyro_vaes.data.digits import read_digits

    pixels, targets = read_digits()
    bunch = load_digits()
    assert pixels.dtype == bunch.images.dtype and np.array_equal(pixels, bunch.images)
    assert np.array_equal(targets, bunch.target)
