"""Pyro's JIT-compiled ELBOs for models whose parameters live in an ``nn.Module``.

``JitTrace_ELBO``, ``JitTraceEnum_ELBO`` and ``JitTraceMeanField_ELBO`` trace
the whole loss (model, guide and the ELBO's own bookkeeping) once with
``torch.jit.trace`` and replay the graph afterwards. They find the tensors to
pass into the graph as ``pyro.param`` sites; this library keeps no global
parameter store, so :class:`JitELBO` answers those sites itself:

- the model and the guide are wrapped to declare every parameter and buffer of
  the model's module as a ``pyro.param`` site, and a messenger returns the
  module's own tensors for them (Adam updates them in place, so the compiled
  graph always sees the current weights; buffers such as an annealed slope
  are inputs too, never frozen constants);
- one compiled ELBO is kept per model, guide, training mode and argument
  shapes (a traced graph has fixed shapes and branches: the last, smaller
  batch of an epoch and labelled batches get their own);
- compiling runs the loss twice (Pyro's parameter capture and the trace)
  under a forked RNG, so a jitted run draws exactly the noise an eager run
  draws and gives the same losses on the same seed.

Only the gradient-carrying loss is compiled; ``loss`` (validation, under
``torch.no_grad``) runs the eager ELBO of the same kind.
"""

from __future__ import annotations

import inspect
import warnings
import weakref
from collections.abc import Callable
from typing import Any

import pyro
import torch
from pyro import poutine
from pyro.infer import ELBO, JitTrace_ELBO, JitTraceEnum_ELBO, JitTraceMeanField_ELBO
from pyro.poutine.messenger import Messenger
from torch import nn

from pyro_vaes.inference.elbo_classes import ELBO_CLASSES, sample_instead


class _JitTraceELBO(JitTrace_ELBO):
    """JitTrace_ELBO whose ``differentiable_loss`` has the gradient of the surrogate only.

    Pyro 1.9's returns ``loss + (surrogate - surrogate.detach())`` with ``loss`` still
    attached to the graph under the JIT, which doubles every gradient of a
    reparameterised model; the eager Trace_ELBO detaches ``loss``, and so does this.
    """

    def differentiable_loss(self, model: Any, guide: Any, *args: Any, **kwargs: Any
                            ) -> torch.Tensor:
        loss, surrogate = self.loss_and_surrogate_loss(model, guide, *args, **kwargs)
        return loss.detach() + (surrogate - surrogate.detach())


class _JitTraceMeanFieldELBO(JitTraceMeanField_ELBO):
    """JitTraceMeanField_ELBO that compiles once.

    Pyro 1.9's looks for its compiled closure under another attribute name than
    the one it stores it in, so it traces the loss again at every call (slow, and
    the tracing runs draw extra random numbers). Storing the closure under the
    name it looks for makes the later calls reuse it.
    """

    def differentiable_loss(self, model: Any, guide: Any, *args: Any, **kwargs: Any
                            ) -> torch.Tensor:
        loss = super().differentiable_loss(model, guide, *args, **kwargs)
        self._loss_and_surrogate_loss = self._differentiable_loss
        return loss


JIT_ELBO_CLASSES: dict[str, type[ELBO]] = {
    "trace": _JitTraceELBO,
    "meanfield": _JitTraceMeanFieldELBO,
    "enum": JitTraceEnum_ELBO,
}

_PREFIX = "pyro_vaes.jit."


class _ModuleTensors(Messenger):
    """Answers ``pyro.param(name)`` for the module's parameters and buffers."""

    def __init__(self, tensors: dict[str, torch.Tensor]) -> None:
        super().__init__()
        self.tensors = tensors

    def _pyro_param(self, msg: dict[str, Any]) -> None:
        if msg["done"]:
            return
        value = self.tensors.get(msg["name"])
        if value is None:
            return
        value.unconstrained = weakref.ref(value)  # what Pyro's param store attaches
        msg["value"] = value
        msg["done"] = True


def module_tensors(module: nn.Module | None) -> dict[str, torch.Tensor]:
    """Every parameter and buffer of ``module``, by site name."""
    if module is None:
        return {}
    named = dict(module.named_parameters())
    named.update(module.named_buffers())
    return {_PREFIX + name: tensor for name, tensor in named.items()}


def _owner(fn: Callable[..., Any]) -> nn.Module | None:
    owner = getattr(fn, "__self__", None)
    return owner if isinstance(owner, nn.Module) else None


def _fn_key(fn: Callable[..., Any]) -> Any:
    """Bound methods are new objects at every attribute access: key them by (owner, function)."""
    if inspect.ismethod(fn):
        return id(fn.__self__), fn.__func__
    return fn


def _arg_key(arg: Any) -> Any:
    if torch.is_tensor(arg):
        return tuple(arg.shape), arg.dtype, arg.device
    return arg


class _Compiled:
    """One Pyro JIT ELBO bound to one model and guide (Pyro's closures keep the first pair)."""

    def __init__(self, elbo: ELBO, model: Callable[..., Any], guide: Callable[..., Any],
                 module: nn.Module | None, enumerates: bool) -> None:

        self.elbo = elbo
        self.module = module
        if not enumerates:
            guide = poutine.infer_config(guide, sample_instead)

        def declare(fn: Callable[..., Any]) -> Callable[..., Any]:
            def wrapped(*args: Any) -> Any:
                tensors = module_tensors(self.module)
                with _ModuleTensors(tensors):
                    for name in tensors:
                        pyro.param(name)
                    return fn(*args)
            return wrapped

        self.model = declare(model)
        self.guide = declare(guide)
        self.ready = False

    def __call__(self, *args: Any) -> torch.Tensor:
        with _ModuleTensors(module_tensors(self.module)):
            if not self.ready:
                devices = [a.device.index or 0 for a in args
                           if torch.is_tensor(a) and a.device.type == "cuda"][:1]
                with torch.random.fork_rng(devices=devices):
                    self.elbo.differentiable_loss(self.model, self.guide, *args)
                self.ready = True
            return self.elbo.differentiable_loss(self.model, self.guide, *args)


class JitELBO(ELBO):
    """A Pyro JIT ELBO by name (``trace``, ``meanfield`` or ``enum``) for module-held models.

    ``differentiable_loss`` runs the compiled loss; ``loss`` the eager one.
    """

    def __init__(self, name: str, **options: Any) -> None:
        super().__init__(**options)

        self.name = name
        self.options = options
        self.eager = ELBO_CLASSES[name](**options)
        self._compiled: dict[Any, _Compiled] = {}

    @property
    def enumerates(self) -> bool:
        """True for the enumerating ELBO (TraceEnum)."""
        return self.name == "enum"

    def differentiable_loss(self, model: Callable[..., Any], guide: Callable[..., Any],
                            *args: Any) -> torch.Tensor:
        """The compiled negative ELBO; trailing ``None`` arguments are left out."""
        args = _strip_trailing_none(args)
        if any(a is None for a in args):
            raise ValueError("JIT ELBOs take tensors only; a None argument must be the last")
        owner = _owner(model) or _owner(guide)
        training = owner.training if owner is not None else None  # branches on it are traced
        key = (_fn_key(model), _fn_key(guide), training, tuple(_arg_key(a) for a in args))
        compiled = self._compiled.get(key)
        if compiled is None:
            elbo = JIT_ELBO_CLASSES[self.name](ignore_jit_warnings=True, **self.options)
            compiled = _Compiled(elbo, model, guide, owner, self.enumerates)
            self._compiled[key] = compiled
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
            warnings.filterwarnings("ignore", message=".*torch.jit.trace. is deprecated")
            return compiled(*args)

    def _get_trace(self, *args: Any, **kwargs: Any) -> Any:
        return self.eager._get_trace(*args, **kwargs)

    def loss(self, model: Callable[..., Any], guide: Callable[..., Any], *args: Any,
             **kwargs: Any) -> float:
        """The eager ELBO's loss (no gradients, nothing compiled)."""
        return self.eager.loss(model, guide, *args, **kwargs)


def _strip_trailing_none(args: tuple[Any, ...]) -> tuple[Any, ...]:
    end = len(args)
    while end and args[end - 1] is None:
        end -= 1
    return args[:end]


__all__ = ["JIT_ELBO_CLASSES", "JitELBO", "module_tensors"]
