"""In-memory image data sets and their train/val/test splits."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch

from pyro_vaes.errors import DataError


@dataclass
class ImageDataset:
    """Images held in memory as a uint8 tensor, with optional labels of three kinds.

    ``targets`` are class indices, ``factors`` the level index of each known
    generative factor, ``attributes`` 0/1 binary labels (float32).
    """

    name: str
    images: torch.Tensor
    targets: torch.Tensor | None = None
    class_names: list[str] | None = None
    factors: torch.Tensor | None = None
    factor_names: list[str] | None = None
    factor_sizes: list[int] | None = None
    attributes: torch.Tensor | None = None
    attribute_names: list[str] | None = None

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.dim() != 4:
            raise DataError(
                f"{self.name}: images must be a uint8 tensor (N, C, H, W), got "
                f"{self.images.dtype} of shape {tuple(self.images.shape)}; fix the loader"
            )
        n = self.images.shape[0]
        for field in ("targets", "factors", "attributes"):
            value = getattr(self, field)
            if value is not None and value.shape[0] != n:
                raise DataError(
                    f"{self.name}: {field} has {value.shape[0]} rows but there are {n} "
                    "images; fix the loader so both come from the same files"
                )

    def __len__(self) -> int:
        return int(self.images.shape[0])

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """The (C, H, W) shape of one image."""
        c, h, w = self.images.shape[1:]
        return int(c), int(h), int(w)

    @property
    def num_classes(self) -> int | None:
        """Number of classes, or None when the set has no class targets."""
        if self.class_names is not None:
            return len(self.class_names)
        if self.targets is not None and len(self.targets) > 0:
            return int(self.targets.max()) + 1
        return None

    def subset(self, indices: torch.Tensor) -> ImageDataset:
        """A new data set holding the rows ``indices`` of every per-example field."""
        indices = torch.as_tensor(indices, dtype=torch.long)

        def take(value: torch.Tensor | None) -> torch.Tensor | None:
            return None if value is None else value[indices]

        return ImageDataset(
            name=self.name,
            images=self.images[indices],
            targets=take(self.targets),
            class_names=self.class_names,
            factors=take(self.factors),
            factor_names=self.factor_names,
            factor_sizes=self.factor_sizes,
            attributes=take(self.attributes),
            attribute_names=self.attribute_names,
        )

    def to(self, device: torch.device | str) -> ImageDataset:
        """The same data set with its images on ``device`` (labels stay where they are:
        they are small and the plans index them with CPU indices)."""
        return dataclasses.replace(self, images=self.images.to(device))

    def pixels(self, indices: torch.Tensor | None = None) -> torch.Tensor:
        """Images (all, or rows ``indices``) as float32 in [0, 1], on the images' device."""
        if indices is None:
            images = self.images
        else:
            if torch.is_tensor(indices) and indices.device != self.images.device:
                indices = indices.to(self.images.device, non_blocking=True)
            images = self.images[indices]
        return images.to(torch.float32).div_(255.0)


@dataclass
class DataSplits:
    """The train, validation and test parts of one data set."""

    train: ImageDataset
    val: ImageDataset
    test: ImageDataset

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """The (C, H, W) shape of one image."""
        return self.train.image_shape

    def to(self, device: torch.device | str) -> DataSplits:
        """The same splits with every image tensor on ``device`` (moved once, whole)."""
        return DataSplits(self.train.to(device), self.val.to(device), self.test.to(device))

    @property
    def num_classes(self) -> int | None:
        """Number of classes, or None."""
        return self.train.num_classes

    @property
    def class_names(self) -> list[str] | None:
        """Class names, or None."""
        return self.train.class_names

    @property
    def factor_names(self) -> list[str] | None:
        """Generative factor names, or None."""
        return self.train.factor_names

    @property
    def factor_sizes(self) -> list[int] | None:
        """Number of levels of each generative factor, or None."""
        return self.train.factor_sizes

    @property
    def attribute_names(self) -> list[str] | None:
        """Binary attribute names, or None."""
        return self.train.attribute_names
