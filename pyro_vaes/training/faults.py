"""Fault injection for the test-suite: stop a real training process at a chosen point.

The tests of interruption and divergence need to hit exact points of a run (before
its first checkpoint, in the middle of an epoch, half-way through writing a
checkpoint) in a real ``pyro-vaes train`` process. They set one environment
variable::

    PYRO_VAES_FAULT=POINT:N:ACTION

- ``POINT`` ``run-created``: the run directory exists and is locked, no checkpoint
  is written yet (N is 1); ``step``: optimiser step N of the run (counted from the
  run's first step, across resumes) is done; ``checkpoint-write``: the N-th checkpoint
  this process writes is half-way through its temporary file.
- ``ACTION`` ``kill`` sends the process SIGKILL (no clean-up of any kind runs),
  ``interrupt`` sends SIGINT (as Ctrl-C does), ``nan`` (``step`` only) makes the loss of
  step N and of every later step NaN, as a diverging model's would be.

Unset (always, outside the tests) every hook is a no-op costing one comparison.
"""

from __future__ import annotations

import os
import signal

import torch

ENVIRONMENT_VARIABLE = "PYRO_VAES_FAULT"
POINTS = ("run-created", "step", "checkpoint-write")
ACTIONS = ("kill", "interrupt", "nan")


def _parse(text: str | None) -> tuple[str, int, str] | None:
    if not text:
        return None
    try:
        point, count, action = text.split(":")
        parsed = (point, int(count), action)
    except ValueError:
        parsed = None
    if parsed is None or point not in POINTS or action not in ACTIONS:
        raise RuntimeError(f"{ENVIRONMENT_VARIABLE}={text!r}: expected POINT:N:ACTION with "
                           f"POINT in {POINTS} and ACTION in {ACTIONS}")
    return parsed


_FAULT = _parse(os.environ.get(ENVIRONMENT_VARIABLE))


def reached(point: str, count: int) -> None:
    """Signal this process if the configured fault is ``point`` at its ``count``-th time."""
    if _FAULT is None or _FAULT[0] != point or _FAULT[1] != count:
        return
    if _FAULT[2] == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif _FAULT[2] == "interrupt":
        os.kill(os.getpid(), signal.SIGINT)


def poison(loss: torch.Tensor, step: int) -> torch.Tensor:
    """The loss of optimiser step ``step``, NaN from the configured step on (``step:N:nan``)."""
    if _FAULT is None or _FAULT[0] != "step" or _FAULT[2] != "nan" or step < _FAULT[1]:
        return loss
    return loss * float("nan")
