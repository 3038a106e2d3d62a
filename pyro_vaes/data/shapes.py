"""The procedural shapes data set: the full factorial grid of known generative factors."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import torch

from .dataset import DataSplits, ImageDataset
from .render import SHAPE_NAMES, SYMMETRY_PERIOD, render_shapes
from .splits import limit_train, split_dataset

FACTOR_NAMES = ["shape", "scale", "rotation", "pos_x", "pos_y"]
ATTRIBUTE_NAMES = ["is_square", "is_ellipse", "is_heart", "large", "rotated", "right", "low"]


@dataclass(frozen=True)
class ShapesGrid:
    """Number of levels of each factor and the rendering size."""

    scales: int
    rotations: int
    positions_x: int
    positions_y: int
    size: int

    @property
    def factor_sizes(self) -> list[int]:
        """Levels per factor, in ``FACTOR_NAMES`` order."""
        return [len(SHAPE_NAMES), self.scales, self.rotations, self.positions_x, self.positions_y]


FULL = ShapesGrid(scales=6, rotations=10, positions_x=16, positions_y=16, size=64)
SMALL = ShapesGrid(scales=3, rotations=4, positions_x=6, positions_y=6, size=32)


def _levels(count: int, low: float, high: float) -> torch.Tensor:
    if count == 1:
        return torch.tensor([high])
    return torch.linspace(low, high, count)


def factor_values(grid: ShapesGrid, factors: torch.Tensor) -> list[torch.Tensor]:
    """Real values (render_shapes units) of factor level indices (N, 5).

    Rotation level ``k`` of ``R`` is the angle ``k / R`` of the shape's symmetry
    period (pi/2 square, pi ellipse, 2 pi heart), so every level gives a
    distinct image.
    """
    shape = factors[:, 0]
    scale = _levels(grid.scales, 0.5, 1.0)[factors[:, 1]]
    period = torch.tensor(SYMMETRY_PERIOD, dtype=torch.float32)[shape]
    rotation = factors[:, 2].to(torch.float32) / grid.rotations * period
    pos_x = _levels(grid.positions_x, 0.0, 1.0)[factors[:, 3]]
    pos_y = _levels(grid.positions_y, 0.0, 1.0)[factors[:, 4]]
    return [shape, scale, rotation, pos_x, pos_y]


def factor_grid(sizes: list[int]) -> torch.Tensor:
    """Every combination of factor levels once, first factor slowest: int64 (prod, F)."""
    axes = [torch.arange(n) for n in sizes]
    return torch.cartesian_prod(*axes).reshape(-1, len(sizes))


def binary_attributes(factors: torch.Tensor, sizes: list[int]) -> torch.Tensor:
    """The 0/1 attributes of ``ATTRIBUTE_NAMES`` derived from factor levels: float32 (N, 7)."""
    shape = factors[:, 0]
    columns = [shape == k for k in range(len(SHAPE_NAMES))]
    columns += [factors[:, f] >= sizes[f] // 2 for f in range(1, 5)]
    return torch.stack(columns, dim=1).to(torch.float32)


def build_shapes(grid: ShapesGrid, name: str = "shapes") -> ImageDataset:
    """Render the whole factorial grid (deterministic) as one ImageDataset."""
    sizes = grid.factor_sizes
    factors = factor_grid(sizes)
    images = render_shapes(*factor_values(grid, factors), size=grid.size)
    return ImageDataset(
        name=name,
        images=images,
        targets=factors[:, 0].clone(),
        class_names=list(SHAPE_NAMES),
        factors=factors,
        factor_names=list(FACTOR_NAMES),
        factor_sizes=sizes,
        attributes=binary_attributes(factors, sizes),
        attribute_names=list(ATTRIBUTE_NAMES),
    )


@functools.lru_cache(maxsize=2)
def _cached(grid: ShapesGrid, name: str) -> ImageDataset:
    return build_shapes(grid, name)


def load_shapes_splits(
    small: bool = False,
    *,
    seed: int = 0,
    max_train: int | None = None,
    image_size: int | None = None,
) -> DataSplits:
    """Seeded 80/10/10 split (stratified by shape) of the full or small shapes grid."""
    grid = SMALL if small else FULL
    if image_size is not None:
        grid = ShapesGrid(grid.scales, grid.rotations, grid.positions_x, grid.positions_y,
                          image_size)  # fmt: skip
    data = _cached(grid, "shapes-small" if small else "shapes")
    splits = split_dataset(data, val=0.1, test=0.1, seed=seed)
    return limit_train(splits, max_train, seed)
