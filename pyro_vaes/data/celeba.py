"""CelebA (aligned and cropped faces, 40 binary attributes) read from a local copy.

torchvision's ``CelebA`` checks the md5 sum of each text file before it
loads anything; a partial copy, a re-saved copy or a small hand-made tree (as
in the tests) fails that check with an unhelpful "Dataset not found or
corrupted". :class:`LocalCelebA` replaces the check by one that the needed
files exist; the loader names any missing file in a DataError instead.
"""

from __future__ import annotations

import os

import torch
from PIL import Image, UnidentifiedImageError
from torchvision.datasets import CelebA

from pyro_vaes.errors import ConfigError, DataError

from .dataset import DataSplits, ImageDataset
from .resize import crop_resize
from .splits import check_max_train, subsample_positions

TEXT_FILES = [
    "list_attr_celeba.txt",
    "identity_CelebA.txt",
    "list_bbox_celeba.txt",
    "list_landmarks_align_celeba.txt",
    "list_eval_partition.txt",
]
IMAGE_DIR = "img_align_celeba"
CROP = 148
FIX = "point --data-root at a CelebA copy (img_align_celeba/ plus its five .txt files)"


class LocalCelebA(CelebA):
    """torchvision CelebA whose integrity check only asks that the needed files exist."""

    def __init__(self, root: str, folder: str, split: str) -> None:
        self.base_folder = folder
        super().__init__(root, split=split, target_type="attr", download=False)

    def _check_integrity(self) -> bool:
        base = os.path.join(self.root, self.base_folder)
        files = all(os.path.isfile(os.path.join(base, f)) for f in TEXT_FILES)
        return files and os.path.isdir(os.path.join(base, IMAGE_DIR))


def locate(root: str | None) -> tuple[str, str]:
    """(parent, folder) of the CelebA directory: ``root/celeba`` or ``root`` itself."""
    if root is None:
        raise ConfigError(f"--data celeba needs --data-root DIR; {FIX}")
    root = os.fspath(root)
    if not os.path.isdir(root):
        raise DataError(f"{root}: directory not found for data set celeba; {FIX}")
    if os.path.isdir(os.path.join(root, "celeba")):
        base = os.path.join(root, "celeba")
    else:
        base = os.path.abspath(root)
    missing = [f for f in TEXT_FILES if not os.path.isfile(os.path.join(base, f))]
    if not os.path.isdir(os.path.join(base, IMAGE_DIR)):
        missing.append(IMAGE_DIR + "/")
    if missing:
        raise DataError(f"{base}: missing {', '.join(missing)} for data set celeba; {FIX}")
    return os.path.dirname(base), os.path.basename(base)


def _open_split(parent: str, folder: str, split: str) -> LocalCelebA:
    try:
        return LocalCelebA(parent, folder, split)
    except (OSError, ValueError, IndexError, RuntimeError, TypeError) as err:
        reason = " ".join(str(err).split()) or type(err).__name__
        raise DataError(
            f"{os.path.join(parent, folder)}: CelebA text files unreadable ({reason}); {FIX}"
        ) from None


def _load_images(data: LocalCelebA, rows: torch.Tensor, size: int) -> torch.Tensor:
    images = torch.empty((len(rows), 3, size, size), dtype=torch.uint8)
    directory = os.path.join(data.root, data.base_folder, IMAGE_DIR)
    for out, row in enumerate(rows.tolist()):
        path = os.path.join(directory, data.filename[row])
        try:
            with Image.open(path) as image:
                images[out] = crop_resize(image, size, CROP)
        except (OSError, UnidentifiedImageError) as err:
            reason = " ".join(str(err).split()) or type(err).__name__
            raise DataError(f"{path}: cannot read the image ({reason}); {FIX}") from None
    return images


def _part(data: LocalCelebA, rows: torch.Tensor, size: int) -> ImageDataset:
    names = [n for n in data.attr_names if n]
    attributes = data.attr[rows].to(torch.float32)
    if attributes.shape[1] != len(names):
        raise DataError(
            f"{os.path.join(data.root, data.base_folder, TEXT_FILES[0])}: {len(names)} "
            f"attribute names but {attributes.shape[1]} columns; {FIX}"
        )
    return ImageDataset(
        name="celeba",
        images=_load_images(data, rows, size),
        attributes=attributes,
        attribute_names=names,
    )


def load_celeba_splits(
    root: str | None,
    *,
    seed: int = 0,
    max_train: int | None = None,
    image_size: int | None = None,
) -> DataSplits:
    """Official train/val/test partition; images centre-cropped to 148 and resized.

    Only the ``max_train`` (seeded random) training images are read from disk.
    """
    check_max_train(max_train)
    parent, folder = locate(root)
    size = 64 if image_size is None else image_size
    parts = []
    for split in ("train", "valid", "test"):
        data = _open_split(parent, folder, split)
        n = len(data.filename)
        rows = subsample_positions(n, None, max_train, seed) if split == "train" else None
        parts.append(_part(data, torch.arange(n) if rows is None else rows, size))
    return DataSplits(*parts)
