"""Mini-batches as index tensors over data held in memory."""

from __future__ import annotations

from collections.abc import Iterator

import torch

from pyro_vaes.errors import ConfigError


def index_batches(
    num_items: int,
    batch_size: int,
    *,
    shuffle: bool,
    generator: torch.Generator | None = None,
    drop_last: bool = False,
) -> Iterator[torch.Tensor]:
    """LongTensors of positions covering ``range(num_items)`` once, in batches.

    The order is drawn when this is called (not at the first batch), only from
    ``generator`` (torch's default generator when None), so saving its state
    before the call makes an epoch reproducible and resumable.
    """
    if batch_size < 1:
        raise ConfigError(f"--batch-size {batch_size}: must be at least 1; give a positive size")
    if num_items < 0:
        raise ConfigError(f"num_items {num_items}: must not be negative")
    if shuffle:
        order = torch.randperm(num_items, generator=generator)
    else:
        order = torch.arange(num_items)
    stop = num_items - num_items % batch_size if drop_last else num_items
    return (order[start : start + batch_size] for start in range(0, stop, batch_size))
