"""Process-wide settings changed only for the length of a ``with`` block.

Torch's intra-op thread count and Pyro's validation flag belong to the whole
process; a library call that needs another value sets it here and the previous
value comes back when the block ends, also on an exception.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pyro
import torch


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Run the block with ``torch.set_num_threads(count)``; restore the previous count."""
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextmanager
def pyro_validation(enabled: bool) -> Iterator[None]:
    """Run the block with Pyro's argument and support checks on or off; restore the flag."""
    with pyro.validation_enabled(enabled):
        yield
