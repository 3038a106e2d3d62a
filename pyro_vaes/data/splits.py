"""Seeded, stratified train/val/test splits and training-set subsampling."""

from __future__ import annotations

import torch

from pyro_vaes.errors import ConfigError, DataError

from .dataset import DataSplits, ImageDataset


def stratified_order(targets: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """A seeded permutation of all positions whose every prefix is class-stratified.

    Members of each class are shuffled and spread evenly over the order (each
    gets a key ``(rank + jitter) / class_size``), so any first ``m`` positions
    hold each class in proportion to its size, within one example.
    """
    n = int(targets.shape[0])
    perm = torch.randperm(n, generator=generator)
    sorted_t, by_class = torch.sort(targets[perm], stable=True)
    _, counts = torch.unique_consecutive(sorted_t, return_counts=True)
    starts = torch.cumsum(counts, 0) - counts
    rank = torch.arange(n) - torch.repeat_interleave(starts, counts)
    size = torch.repeat_interleave(counts, counts)
    jitter = torch.rand(n, generator=generator, dtype=torch.float64)
    key = (rank.to(torch.float64) + jitter) / size.to(torch.float64)
    return perm[by_class[torch.argsort(key)]]


def random_order(n: int, targets: torch.Tensor | None, generator: torch.Generator) -> torch.Tensor:
    """``stratified_order`` for 1-D targets, a plain permutation of ``n`` otherwise."""
    if targets is not None and targets.dim() == 1:
        return stratified_order(targets, generator)
    return torch.randperm(n, generator=generator)


def split_sizes(name: str, n: int, val: float, test: float) -> tuple[int, int, int]:
    """Train/val/test sizes for ``n`` items: each of val and test at least one."""
    if n < 3:
        raise DataError(
            f"{name}: only {n} images, a train/val/test split needs at least 3; add images"
        )
    n_val = max(1, round(val * n))
    n_test = max(1, round(test * n))
    return n - n_val - n_test, n_val, n_test


def split_dataset(data: ImageDataset, *, val: float, test: float, seed: int) -> DataSplits:
    """Seeded stratified (by class targets when present) train/val/test split."""
    _, n_val, n_test = split_sizes(data.name, len(data), val, test)
    generator = torch.Generator().manual_seed(seed)
    order = random_order(len(data), data.targets, generator)
    test_idx = order[:n_test].sort().values
    val_idx = order[n_test : n_test + n_val].sort().values
    train_idx = order[n_test + n_val :].sort().values
    return DataSplits(data.subset(train_idx), data.subset(val_idx), data.subset(test_idx))


def check_max_train(max_train: int | None) -> None:
    """Reject a ``max_train`` below one."""
    if max_train is not None and max_train < 1:
        raise ConfigError(
            f"--max-train {max_train}: must be at least 1; give a positive count or leave it out"
        )


def subsample_positions(
    n: int, targets: torch.Tensor | None, count: int | None, seed: int
) -> torch.Tensor:
    """Sorted positions of a seeded stratified subset of ``count`` out of ``n`` (all if None)."""
    check_max_train(count)
    if count is None or count >= n:
        return torch.arange(n)
    generator = torch.Generator().manual_seed(seed + 1)
    return random_order(n, targets, generator)[:count].sort().values


def limit_train(splits: DataSplits, max_train: int | None, seed: int) -> DataSplits:
    """Keep a seeded stratified subset of ``max_train`` training images."""
    train = splits.train
    keep = subsample_positions(len(train), train.targets, max_train, seed)
    if len(keep) == len(train):
        return splits
    return DataSplits(train.subset(keep), splits.val, splits.test)
