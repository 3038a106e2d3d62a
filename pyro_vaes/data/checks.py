"""Checks of loaded data against what training assumes, made before anything is trained or
written: every split holds images, class labels lie in the range of the classes, and a model
that learns from class labels gets at least two classes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyro_vaes.errors import DataError

if TYPE_CHECKING:    # the registry is imported without torch
    from .dataset import DataSplits


def check_splits(name: str, splits: DataSplits) -> None:
    """Refuse splits a run cannot use: an empty train, validation or test split, or class
    labels outside ``0 .. num_classes - 1``."""
    for part in ("train", "val", "test"):
        dataset = getattr(splits, part)
        if len(dataset) == 0:
            raise DataError(f"--data {name}: the {part} split holds no images; a run needs "
                            f"images in train, val and test (check the data files, or a "
                            f"--max-train of at least 1)")
    classes = splits.num_classes
    for part in ("train", "val", "test"):
        targets = getattr(splits, part).targets
        if classes is None or targets is None or targets.dim() != 1 or len(targets) == 0:
            continue
        low, high = int(targets.min()), int(targets.max())
        if low < 0 or high >= classes:
            bad = low if low < 0 else high
            raise DataError(f"--data {name}: the {part} split holds class label {bad}, outside "
                            f"its {classes} classes 0..{classes - 1}; fix the label files")


def check_classes_for(model: str, learns_labels: bool, splits: DataSplits, name: str) -> None:
    """Refuse to train a model that learns from class labels (``learns_labels``: the
    semi-supervised ones) on training images of fewer than two classes (nothing to tell
    apart)."""
    targets = splits.train.targets
    if not learns_labels or targets is None or targets.dim() != 1:
        return
    import torch

    present = torch.unique(targets)
    if len(present) < 2:
        names = splits.class_names
        which = (names[int(present[0])] if names and len(present) else
                 str(present.tolist()))
        raise DataError(f"--data {name}: every training image has class {which!r}; model "
                        f"'{model}' learns to tell classes apart and needs images of at least "
                        f"two classes; choose a data set with several classes")


def size_notes(name: str, splits: DataSplits, *, max_train: int | None,
               batch_size: int) -> list[str]:
    """What was used instead of a size larger than the data it counts: --max-train above the
    training images (all are used), --batch-size above them (every batch holds all)."""
    n = len(splits.train)
    notes = []
    if max_train is not None and max_train > n:
        notes.append(f"--max-train {max_train} is more than the {n} training images of {name}; "
                     f"all {n} are used")
    if batch_size > n:
        notes.append(f"--batch-size {batch_size} is more than the {n} training images; every "
                     f"batch holds all {n}")
    return notes
