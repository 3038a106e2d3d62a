"""Directories of the four standard IDX files: Fashion-MNIST, MNIST and look-alikes."""

from __future__ import annotations

import os

import torch

from pyro_vaes.errors import ConfigError, DataError

from .dataset import DataSplits, ImageDataset
from .idx import read_idx
from .resize import resize_images
from .splits import limit_train, stratified_order

FASHION_ROOT = "/usr/share/datasets/fashion-mnist"
FASHION_CLASSES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]  # fmt: skip
STEMS = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


def _fix(name: str) -> str:
    if name == "fashion-mnist":
        return (
            "run `apt-get install dataset-fashion-mnist` or point --data-root at a directory "
            "holding the four Fashion-MNIST IDX files"
        )
    return "point --data-root at a directory holding the four IDX files (plain or .gz)"


def find_idx_files(root: str, name: str) -> dict[str, str]:
    """Paths of the four IDX files in ``root`` (each plain or ``.gz``)."""
    fix = _fix(name)
    if not os.path.isdir(root):
        raise DataError(f"{root}: directory not found for data set {name}; {fix}")
    found: dict[str, str] = {}
    missing: list[str] = []
    for key, stem in STEMS.items():
        dotted = stem.replace("-idx", ".idx")
        candidates = [stem, stem + ".gz", dotted, dotted + ".gz"]
        paths = [os.path.join(root, c) for c in candidates if os.path.isfile(os.path.join(root, c))]
        if paths:
            found[key] = paths[0]
        else:
            missing.append(stem + "[.gz]")
    if missing:
        raise DataError(f"{root}: missing {', '.join(missing)} for data set {name}; {fix}")
    return found


def _read_part(images_path: str, labels_path: str, fix: str) -> tuple[torch.Tensor, torch.Tensor]:
    images = read_idx(images_path, ndim=3, fix=fix)
    labels = read_idx(labels_path, ndim=1, fix=fix)
    if images.shape[0] != labels.shape[0]:
        raise DataError(
            f"{labels_path}: {labels.shape[0]} labels but {images_path} holds "
            f"{images.shape[0]} images; the files belong to different sets, {fix}"
        )
    return images.unsqueeze(1), labels.to(torch.long)


def _class_names(name: str, labels: torch.Tensor, labels_path: str) -> list[str]:
    top = int(labels.max()) + 1 if len(labels) else 0
    if name == "fashion-mnist":
        if top > len(FASHION_CLASSES):
            raise DataError(
                f"{labels_path}: label {top - 1} is out of range for Fashion-MNIST's 10 "
                f"classes; {_fix(name)}"
            )
        return list(FASHION_CLASSES)
    if top > 10:
        counts = torch.bincount(labels, minlength=top)
        unused = int((counts == 0).sum())
        if unused:
            rare = int(counts[-1])
            raise DataError(
                f"{labels_path}: label {top - 1} ({rare} image{'s' if rare != 1 else ''}) "
                f"would make {top} classes, {unused} of them without a single image; class "
                f"labels must be 0..K-1 with every class present, fix the label files"
            )
    return [str(k) for k in range(max(top, 10))]


def resolve_root(name: str, root: str | None) -> str:
    """The directory to read: ``root``, or the installed Fashion-MNIST for that set."""
    if root is not None:
        return os.fspath(root)
    if name == "fashion-mnist":
        return FASHION_ROOT
    raise ConfigError(
        f"--data {name} needs --data-root DIR holding the four {name.upper()} IDX files "
        "(train/t10k images-idx3 and labels-idx1, plain or .gz)"
    )


def load_idx_splits(
    name: str,
    root: str | None = None,
    *,
    seed: int = 0,
    max_train: int | None = None,
    image_size: int | None = None,
) -> DataSplits:
    """Train/val/test from an IDX directory: test = t10k files, val taken out of train.

    Validation is a seeded stratified 5000 images of the train files, or 10 %
    of them when they hold fewer than 50000.
    """
    directory = resolve_root(name, root)
    paths = find_idx_files(directory, name)
    fix = _fix(name)
    train_x, train_y = _read_part(paths["train_images"], paths["train_labels"], fix)
    test_x, test_y = _read_part(paths["test_images"], paths["test_labels"], fix)
    if train_x.shape[2:] != test_x.shape[2:]:
        raise DataError(
            f"{paths['test_images']}: images are {tuple(test_x.shape[2:])} but "
            f"{paths['train_images']} holds {tuple(train_x.shape[2:])}; {fix}"
        )
    if len(test_y) == 0:
        raise DataError(
            f"{paths['test_images']}: holds no images; a run is evaluated and drawn on its "
            f"test images, give test files with at least one image; {fix}"
        )
    if len(train_y) < 2:
        raise DataError(
            f"{paths['train_images']}: only {len(train_y)} training images, need at least 2 "
            f"to take a validation set out; {fix}"
        )
    labels_path = paths["train_labels"]
    classes = _class_names(name, torch.cat([train_y, test_y]), labels_path)
    if image_size is not None:
        train_x, test_x = resize_images(train_x, image_size), resize_images(test_x, image_size)
    n_val = 5000 if len(train_y) >= 50000 else max(1, round(0.1 * len(train_y)))
    order = stratified_order(train_y, torch.Generator().manual_seed(seed))
    val_idx, train_idx = order[:n_val].sort().values, order[n_val:].sort().values

    def part(images: torch.Tensor, labels: torch.Tensor) -> ImageDataset:
        return ImageDataset(name=name, images=images, targets=labels, class_names=classes)

    splits = DataSplits(
        train=part(train_x[train_idx], train_y[train_idx]),
        val=part(train_x[val_idx], train_y[val_idx]),
        test=part(test_x, test_y),
    )
    return limit_train(splits, max_train, seed)
