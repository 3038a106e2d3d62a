"""The running training loss of an epoch, summed where the loss lives.

Reading a GPU tensor as a Python number waits for the GPU to finish (a host
sync), so the step loop never does it: :class:`LossMonitor` adds each step's
``loss * batch_size`` to a running sum on the loss's device and reads it only

- every step on the CPU, where reading costs nothing (so a non-finite loss is
  caught at the exact step), and
- every ``check_every`` steps and at the end of the epoch elsewhere.

A sum that holds a NaN or an infinity stays non-finite, so one check of the
sum tells whether any step since the last check diverged: :meth:`check`
returns the range of steps in which the first non-finite loss appeared
(one step on the CPU). The trainer decides what to do with it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

CHECK_EVERY = 50


@dataclass(frozen=True)
class NonFiniteLoss:
    """Where a loss was first seen to be NaN or infinite: steps ``first``..``last``
    (1-based within the epoch; equal when the step is known exactly) and the
    value read there."""

    first: int
    last: int
    value: float

    @property
    def exact(self) -> bool:
        """True when the step is known exactly."""
        return self.first == self.last

    def steps(self) -> str:
        """'step 12' or 'steps 1-50'."""
        return f"step {self.last}" if self.exact else f"steps {self.first}-{self.last}"


class LossMonitor:
    """Sum of ``loss * size`` over an epoch's steps, kept on the device of the loss.

    ``check_every``: steps between two reads; default 1 on the CPU, ``CHECK_EVERY``
    elsewhere.
    """

    def __init__(self, device: torch.device | str, check_every: int | None = None) -> None:
        device = torch.device(device)
        self.device = device
        if check_every is None:
            check_every = 1 if device.type == "cpu" else CHECK_EVERY
        self.check_every = check_every
        dtype = torch.float32 if device.type == "mps" else torch.float64
        self.total = torch.zeros((), dtype=dtype, device=device)
        self.count = 0
        self.steps = 0
        self._checked = 0
        self._read = (0.0, 0)

    def add(self, loss: torch.Tensor, size: int) -> None:
        """Add one step's mean loss over ``size`` data points (no host sync)."""
        self.total.add_(loss.detach().to(self.total.dtype) * size)
        self.count += size
        self.steps += 1

    def due(self) -> bool:
        """True when this step's sum should be read (every step on the CPU)."""
        return self.steps - self._checked >= self.check_every

    def check(self) -> NonFiniteLoss | None:
        """Read the sum (a host sync off the CPU); report where it first became non-finite."""
        first = self._checked + 1
        self._checked = self.steps
        value = float(self.total)
        self._read = (value, self.count)
        if math.isfinite(value):
            return None
        return NonFiniteLoss(first, self.steps, value)

    def mean(self) -> float:
        """The mean loss per data point up to the last :meth:`check`."""
        value, count = self._read
        return value / max(count, 1)

    def sums(self) -> tuple[float, int]:
        """(sum of loss * size, number of data points) so far; reads the device."""
        return float(self.total), self.count
