"""render_shapes and the procedural shapes data sets."""

from __future__ import annotations

import math

import pytest
import torch

from pyro_vaes.data import DataSplits, group_ids, load_dataset, render_shapes
from pyro_vaes.data.shapes import SMALL, build_shapes

SQUARE, ELLIPSE, HEART = 0, 1, 2


def render_one(
    shape: int, scale: float = 1.0, rotation: float = 0.0, x: float = 0.5, y: float = 0.5
) -> torch.Tensor:
    image = render_shapes(
        torch.tensor([shape]),
        torch.tensor([scale]),
        torch.tensor([rotation]),
        torch.tensor([x]),
        torch.tensor([y]),
        size=64,
    )
    assert image.shape == (1, 1, 64, 64) and image.dtype == torch.uint8
    return image[0, 0]


def centre_of_mass(image: torch.Tensor) -> tuple[float, float]:
    mass = image.to(torch.float64)
    coords = torch.arange(image.shape[0], dtype=torch.float64) + 0.5
    total = mass.sum()
    return float((mass.sum(0) * coords).sum() / total), float((mass.sum(1) * coords).sum() / total)


@pytest.mark.parametrize(("x", "y"), [(0.0, 0.0), (1.0, 0.0), (0.3, 0.8), (0.5, 0.5)])
def test_square_centred_at_position(x: float, y: float) -> None:
    image = render_one(SQUARE, scale=0.7, rotation=0.4, x=x, y=y)
    assert set(image.unique().tolist()) == {0, 255}
    cx, cy = centre_of_mass(image)
    assert cx == pytest.approx((0.25 + 0.5 * x) * 64, abs=0.5)
    assert cy == pytest.approx((0.25 + 0.5 * y) * 64, abs=0.5)


def mean_area(shape: int, scale: float) -> float:
    """Pixel area averaged over a few positions and rotations (evens out aliasing)."""
    n = 16
    images = render_shapes(
        torch.full((n,), shape),
        torch.full((n,), scale),
        torch.linspace(0.0, 1.5, n),
        torch.linspace(0.1, 0.9, n),
        torch.linspace(0.8, 0.2, n),
    )
    return float((images > 0).sum()) / n


def test_scale_changes_area_quadratically() -> None:
    for shape in (SQUARE, ELLIPSE, HEART):
        assert mean_area(shape, 1.0) / mean_area(shape, 0.5) == pytest.approx(4.0, rel=0.05)
    side = 0.34 * 64
    assert mean_area(SQUARE, 1.0) == pytest.approx(side * side, rel=0.03)
    assert mean_area(ELLIPSE, 1.0) == pytest.approx(math.pi * 0.24 * 0.12 * 64**2, rel=0.03)


def test_square_rotation_by_quarter_turn_is_identity() -> None:
    for x, y, scale in ((0.5, 0.5, 1.0), (0.2, 0.7, 0.6), (0.9, 0.1, 0.8)):
        base = render_one(SQUARE, scale=scale, rotation=0.3, x=x, y=y)
        turned = render_one(SQUARE, scale=scale, rotation=0.3 + math.pi / 2, x=x, y=y)
        assert torch.equal(base, turned)
    assert not torch.equal(render_one(SQUARE, rotation=0.0), render_one(SQUARE, rotation=0.4))


def test_shapes_differ_and_heart_is_not_symmetric_under_half_turn() -> None:
    square, ellipse, heart = (render_one(s) for s in (SQUARE, ELLIPSE, HEART))
    assert not torch.equal(square, ellipse)
    assert not torch.equal(ellipse, heart)
    assert not torch.equal(square, heart)
    assert torch.equal(render_one(ELLIPSE, rotation=math.pi), ellipse)
    assert not torch.equal(render_one(HEART, rotation=math.pi), heart)
    # Upright heart: its lobes (top) are wider than its tip (bottom).
    rows = (heart > 0).sum(1)
    filled = torch.nonzero(rows).reshape(-1)
    assert rows[filled[2]] > rows[filled[-3]]


def test_ellipse_rotation_swaps_axes() -> None:
    flat = render_one(ELLIPSE) > 0
    upright = render_one(ELLIPSE, rotation=math.pi / 2) > 0
    assert int(flat.any(0).sum()) > 1.6 * int(flat.any(1).sum())
    assert int(upright.any(1).sum()) > 1.6 * int(upright.any(0).sum())


def test_render_is_deterministic() -> None:
    first, second = build_shapes(SMALL), build_shapes(SMALL)
    assert torch.equal(first.images, second.images)
    assert torch.equal(first.factors, second.factors)


@pytest.fixture(scope="module")
def small() -> DataSplits:
    return load_dataset("shapes-small")


def test_shapes_small_grid(small: DataSplits) -> None:
    assert small.image_shape == (1, 32, 32)
    assert small.factor_names == ["shape", "scale", "rotation", "pos_x", "pos_y"]
    assert small.factor_sizes == [3, 3, 4, 6, 6]
    assert small.class_names == ["square", "ellipse", "heart"]
    assert (len(small.train), len(small.val), len(small.test)) == (1036, 130, 130)
    parts = (small.train, small.val, small.test)
    factors = torch.cat([p.factors for p in parts])
    images = torch.cat([p.images for p in parts]).reshape(len(factors), -1)
    assert torch.unique(factors, dim=0).shape[0] == 3 * 3 * 4 * 6 * 6 == len(factors)
    assert torch.unique(images, dim=0).shape[0] == len(images)
    assert torch.equal(small.train.targets, small.train.factors[:, 0])


def test_shapes_small_attributes(small: DataSplits) -> None:
    train = small.train
    assert train.attribute_names == [
        "is_square", "is_ellipse", "is_heart", "large", "rotated", "right", "low",
    ]  # fmt: skip
    attrs, factors = train.attributes, train.factors
    assert attrs.dtype == torch.float32 and set(attrs.unique().tolist()) == {0.0, 1.0}
    assert torch.equal(attrs[:, :3].argmax(1), factors[:, 0])
    assert torch.equal(attrs[:, :3].sum(1), torch.ones(len(train)))
    assert torch.equal(attrs[:, 3].bool(), factors[:, 1] >= 1)
    assert torch.equal(attrs[:, 5].bool(), factors[:, 3] >= 3)
    assert torch.equal(group_ids(train, "low"), (factors[:, 4] >= 3).long())


def test_full_shapes_grid_enumerated_once() -> None:
    splits = load_dataset("shapes")
    assert splits.image_shape == (1, 64, 64)
    assert splits.factor_sizes == [3, 6, 10, 16, 16]
    parts = (splits.train, splits.val, splits.test)
    assert [len(p) for p in parts] == [36864, 4608, 4608]
    factors = torch.cat([p.factors for p in parts])
    radix = torch.tensor([6 * 10 * 16 * 16, 10 * 16 * 16, 16 * 16, 16, 1])
    flat = (factors * radix).sum(1)
    assert torch.equal(flat.sort().values, torch.arange(46080))
    assert torch.equal(torch.bincount(splits.val.targets), torch.full((3,), 1536))
