"""The scikit-learn 8x8 digits (bundled with scikit-learn, no download).

The file scikit-learn ships (``sklearn/datasets/data/digits.csv.gz``: 1797 rows of 64
pixel values 0..16 and the digit) is read directly, as ``sklearn.datasets.load_digits``
reads it, without importing scikit-learn: that import alone costs about a second, and
the default ``pyro-vaes train`` should reach its first step quickly.
"""

from __future__ import annotations

import gzip
import importlib.util
from pathlib import Path

import numpy as np
import torch

from .dataset import DataSplits, ImageDataset
from .resize import resize_images
from .splits import limit_train, split_dataset


def digits_file() -> Path:
    """Where scikit-learn keeps the digits, found without importing scikit-learn."""
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("scikit-learn is not installed; the digits data set is the "
                                  "one it ships (pip install scikit-learn)")
    return Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data" / \
        "digits.csv.gz"


def read_digits() -> tuple[np.ndarray, np.ndarray]:
    """The digits as (pixels (1797, 8, 8) float64 in 0..16, targets (1797,) int)."""
    with gzip.open(digits_file(), "rt") as handle:
        table = np.loadtxt(handle, delimiter=",")
    return table[:, :-1].reshape(-1, 8, 8), table[:, -1].astype(int)


def digits_dataset() -> ImageDataset:
    """All 1797 digits as uint8 (N, 1, 8, 8): values 0..16 mapped by round(v * 255 / 16)."""
    pixels, labels = read_digits()
    values = torch.as_tensor(pixels, dtype=torch.float64)
    images = torch.round(values * 255.0 / 16.0).clamp(0, 255).to(torch.uint8).unsqueeze(1)
    targets = torch.as_tensor(labels, dtype=torch.long)
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
