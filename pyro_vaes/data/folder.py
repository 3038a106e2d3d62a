"""A directory of class subfolders of images (torchvision ``ImageFolder``)."""

from __future__ import annotations

import os

import torch
from PIL import UnidentifiedImageError
from torchvision.datasets import ImageFolder

from pyro_vaes.errors import ConfigError, DataError

from .dataset import DataSplits, ImageDataset
from .resize import crop_resize
from .splits import check_max_train, split_sizes, stratified_order, subsample_positions

FIX = "point --data-root at a directory with one subfolder of images per class"


def _open_folder(root: str | None) -> ImageFolder:
    if root is None:
        raise ConfigError(f"--data image-folder needs --data-root DIR; {FIX}")
    root = os.fspath(root)
    if not os.path.isdir(root):
        raise DataError(f"{root}: directory not found for data set image-folder; {FIX}")
    try:
        return ImageFolder(root)
    except (OSError, RuntimeError) as err:
        reason = " ".join(str(err).split()) or type(err).__name__
        raise DataError(f"{root}: no usable images ({reason}); {FIX}") from None


def _load(folder: ImageFolder, rows: torch.Tensor, size: int) -> torch.Tensor:
    images = torch.empty((len(rows), 3, size, size), dtype=torch.uint8)
    for out, row in enumerate(rows.tolist()):
        path = folder.samples[row][0]
        try:
            images[out] = crop_resize(folder.loader(path), size)
        except (OSError, UnidentifiedImageError) as err:
            reason = " ".join(str(err).split()) or type(err).__name__
            raise DataError(
                f"{path}: cannot read the image ({reason}); remove it or re-save it"
            ) from None
    return images


def load_folder_splits(
    root: str | None,
    *,
    seed: int = 0,
    max_train: int | None = None,
    image_size: int | None = None,
) -> DataSplits:
    """Seeded stratified 80/10/10 split; images centre-cropped square and resized (RGB).

    The split is made on the labels first, so only the kept images are read.
    """
    check_max_train(max_train)
    folder = _open_folder(root)
    size = 64 if image_size is None else image_size
    targets = torch.tensor(folder.targets, dtype=torch.long)
    _, n_val, n_test = split_sizes(f"{root}", len(targets), 0.1, 0.1)
    order = stratified_order(targets, torch.Generator().manual_seed(seed))
    test = order[:n_test].sort().values
    val = order[n_test : n_test + n_val].sort().values
    train = order[n_test + n_val :].sort().values
    train = train[subsample_positions(len(train), targets[train], max_train, seed)]

    def part(rows: torch.Tensor) -> ImageDataset:
        return ImageDataset(
            name="image-folder",
            images=_load(folder, rows, size),
            targets=targets[rows],
            class_names=list(folder.classes),
        )

    return DataSplits(part(train), part(val), part(test))
