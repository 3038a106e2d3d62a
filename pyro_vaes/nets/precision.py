"""Lower-precision nets: the encoder and decoder under ``torch.autocast``.

Only the nets run in the lower precision (matrix products and convolutions in
bfloat16 on tensor cores); their outputs are cast back to float32, so every
log-density, KL term and sum of the ELBO stays in float32.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from pyro_vaes.errors import ConfigError

AUTOCAST_DTYPES = {"bf16": torch.bfloat16}
NET_ATTRIBUTES = ("encoder", "decoder")


def check_autocast(precision: str | None, device: torch.device) -> None:
    """Refuse a precision this device cannot run, naming the fix."""
    if precision is None:
        return
    if precision not in AUTOCAST_DTYPES:
        raise ConfigError(f"--autocast {precision!r} is not valid; choose one of: "
                          f"{', '.join(AUTOCAST_DTYPES)}")
    if device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise ConfigError(f"--autocast {precision}: this GPU has no bfloat16 support; "
                          f"leave --autocast out")
    if device.type not in ("cuda", "cpu"):
        raise ConfigError(f"--autocast {precision} runs on cuda or cpu devices, not "
                          f"{device.type}; leave --autocast out")


def _autocast_forward(forward: Callable[..., Any], dtype: torch.dtype) -> Callable[..., Any]:
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        device = next((a.device.type for a in args if torch.is_tensor(a)), "cpu")
        with torch.autocast(device_type=device, dtype=dtype):
            out = forward(*args, **kwargs)
        return out.float() if torch.is_tensor(out) else out
    wrapped.autocast_dtype = dtype  # type: ignore[attr-defined]
    return wrapped


def autocast_nets(model: nn.Module, precision: str | None) -> list[str]:
    """Run the model's ``encoder`` and ``decoder`` under autocast in ``precision``.

    Returns the names of the nets changed; the weights and the state dict are
    untouched (the forward is wrapped on the instance).
    """
    if precision is None:
        return []
    dtype = AUTOCAST_DTYPES[precision]
    changed = []
    for name in NET_ATTRIBUTES:
        net = getattr(model, name, None)
        if not isinstance(net, nn.Module) or hasattr(net.forward, "autocast_dtype"):
            continue
        net.forward = _autocast_forward(net.forward, dtype)
        changed.append(name)
    return changed
