"""Pyro's eager ELBOs without their reads of the loss on the host.

Inside ``differentiable_loss`` Pyro 1.9 reads values back to Python: every ELBO
checks the loss (and, through a backward hook, its gradient) for NaN with
``warn_if_nan``, Trace_ELBO turns each site's log-density into a Python number
with ``torch_item``, and TraceMeanField_ELBO the whole loss. On a GPU each read
waits for the device to finish everything queued so far (a host sync), several
times per step. :func:`no_host_reads` swaps those two helpers, in the three ELBO
modules and for the duration of one loss, for versions that keep tensors on the
device: ``warn_if_nan`` does nothing (the trainer's
trainer's :class:`pyro_vaes.training.trainer.DivergenceWatch` watches the loss) and
``torch_item`` returns the detached tensor, which leaves the value and the
gradient of ``differentiable_loss`` unchanged. On the CPU a read costs nothing;
:func:`pyro_vaes.inference.elbo.negative_elbo` swaps only off the CPU.
"""

from __future__ import annotations

import contextlib
import numbers
import threading
from collections.abc import Iterator
from typing import Any

import pyro.infer.trace_elbo as _trace_elbo
import pyro.infer.trace_mean_field_elbo as _mean_field_elbo
import pyro.infer.traceenum_elbo as _enum_elbo
import torch

_MODULES = (_trace_elbo, _mean_field_elbo, _enum_elbo)
_LOCK = threading.RLock()


def _no_nan_warning(value: Any, *args: Any, **kwargs: Any) -> Any:
    return value


def _detached(value: Any) -> Any:
    return value if isinstance(value, numbers.Number) else value.detach()


def reads_cost_a_sync(device: torch.device | str | None) -> bool:
    """True for devices where reading a tensor on the host waits for the device (not the CPU)."""
    return device is not None and torch.device(device).type != "cpu"


@contextlib.contextmanager
def no_host_reads(enabled: bool = True) -> Iterator[None]:
    """Within the block, Pyro's ELBOs keep the loss a tensor (nothing changes when disabled)."""
    if not enabled:
        yield
        return
    with _LOCK:
        saved = [(m, m.__dict__.get("warn_if_nan"), m.__dict__.get("torch_item"))
                 for m in _MODULES]
        try:
            for module, warn, item in saved:
                if warn is not None:
                    module.warn_if_nan = _no_nan_warning
                if item is not None:
                    module.torch_item = _detached
            yield
        finally:
            for module, warn, item in saved:
                if warn is not None:
                    module.warn_if_nan = warn
                if item is not None:
                    module.torch_item = item
