"""The named data sets: one entry point, ``load_dataset``."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from pyro_vaes.descriptions import DATASET_DESCRIPTIONS
from pyro_vaes.errors import ConfigError

from .checks import check_splits
from .dataset import DataSplits
from .resize import check_image_size
from .splits import check_max_train

# Loaders import their modules on first use, so importing the package does not
# pull in torchvision or scikit-learn.


def _digits(root: str | None, seed: int, mt: int | None, size: int | None) -> DataSplits:
    from .digits import load_digits_splits

    return load_digits_splits(seed, mt, size)


def _idx(name: str) -> Callable[[str | None, int, int | None, int | None], DataSplits]:
    def load(root: str | None, seed: int, mt: int | None, size: int | None) -> DataSplits:
        from .mnist import load_idx_splits

        return load_idx_splits(name, root, seed=seed, max_train=mt, image_size=size)

    return load


def _shapes(small: bool) -> Callable[[str | None, int, int | None, int | None], DataSplits]:
    def load(root: str | None, seed: int, mt: int | None, size: int | None) -> DataSplits:
        from .shapes import load_shapes_splits

        return load_shapes_splits(small, seed=seed, max_train=mt, image_size=size)

    return load


def _celeba(root: str | None, seed: int, mt: int | None, size: int | None) -> DataSplits:
    from .celeba import load_celeba_splits

    return load_celeba_splits(root, seed=seed, max_train=mt, image_size=size)


def _folder(root: str | None, seed: int, mt: int | None, size: int | None) -> DataSplits:
    from .folder import load_folder_splits

    return load_folder_splits(root, seed=seed, max_train=mt, image_size=size)


class _Entry(NamedTuple):
    load: Callable[[str | None, int, int | None, int | None], DataSplits]
    uses_root: bool = True


_REGISTRY: dict[str, _Entry] = {
    "digits": _Entry(
        _digits,
        uses_root=False,
    ),
    "fashion-mnist": _Entry(
        _idx("fashion-mnist"),
    ),
    "mnist": _Entry(
        _idx("mnist"),
    ),
    "idx": _Entry(
        _idx("idx"),
    ),
    "shapes": _Entry(
        _shapes(False),
        uses_root=False,
    ),
    "shapes-small": _Entry(
        _shapes(True),
        uses_root=False,
    ),
    "celeba": _Entry(
        _celeba,
    ),
    "image-folder": _Entry(
        _folder,
    ),
}


def list_datasets() -> list[str]:
    """Names accepted by ``load_dataset``, the default ("digits") first."""
    return list(_REGISTRY)


def _entry(name: str) -> _Entry:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ConfigError(
            f"--data {name!r}: unknown data set; choose one of: {', '.join(_REGISTRY)}"
        ) from None


def dataset_description(name: str) -> str:
    """One line describing the data set ``name``."""
    _entry(name)
    return DATASET_DESCRIPTIONS[name]


def load_dataset(
    name: str,
    root: str | None = None,
    *,
    seed: int = 0,
    max_train: int | None = None,
    image_size: int | None = None,
) -> DataSplits:
    """Load the named data set into memory as seeded train/val/test splits.

    ``max_train`` keeps a seeded stratified subset of the training images;
    ``image_size`` resizes (or, for shapes, renders) square images of that side.
    """
    entry = _entry(name)
    if root is not None and not entry.uses_root:
        raise ConfigError(f"--data-root is not used by --data {name} (it needs no files); "
                          f"drop --data-root, or choose a data set read from files")
    check_max_train(max_train)
    check_image_size(image_size)
    splits = entry.load(root, seed, max_train, image_size)
    check_splits(name, splits)
    return splits
