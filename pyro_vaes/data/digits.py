"""The scikit-learn 8x8 digits (bundled with scikit-learn, no download)."""

from __future__ import annotations

import torch
from sklearn.datasets import load_digits

from .dataset import DataSplits, ImageDataset
from .resize import resize_images
from .splits import limit_train, split_dataset


def digits_dataset() -> ImageDataset:
    """All 1797 digits as uint8 (N, 1, 8, 8): values 0..16 mapped by round(v * 255 / 16)."""
    bunch = load_digits()
    values = torch.as_tensor(bunch.images, dtype=torch.float64)
    images = torch.round(values * 255.0 / 16.0).clamp(0, 255).to(torch.uint8).unsqueeze(1)
    targets = torch.as_tensor(bunch.target, dtype=torch.long)
    return ImageDataset(
        name="digits",
        images=images,
        targets=targets,
        class_names=[str(k) for k in range(10)],
    )


def load_digits_splits(
    seed: int = 0, max_train: int | None = None, image_size: int | None = None
) -> DataSplits:
    """Seeded stratified 70/10/20 train/val/test split of the digits."""
    data = digits_dataset()
    if image_size is not None:
        data.images = resize_images(data.images, image_size)
    splits = split_dataset(data, val=0.1, test=0.2, seed=seed)
    return limit_train(splits, max_train, seed)
