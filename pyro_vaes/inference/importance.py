"""Importance-weighted estimates of log p(x) from any model/guide pair.

With K guide samples z_k ~ q(z | x):

    log p(x) >= log (1/K) sum_k p(x, z_k) / q(z_k | x)          (IWAE bound)

which tends to log p(x) as K grows. Densities are evaluated without the
sites' ``poutine.scale`` (the beta of a beta-VAE changes the objective, not the
model's density) and with their masks; ``pyro.factor`` terms are left out.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pyro
import pyro.distributions as dist
import torch
from pyro import poutine
from pyro.poutine.util import site_is_subsample

# Data points per vectorised pass of the importance weights: large enough that a pass is
# a few big matrix products, small enough that the conv nets' feature maps of one pass
# stay within a few hundred MiB.
POINTS_PER_PASS = 8192


def _per_datum(trace: pyro.poutine.Trace, data_plate: str, rank: int) -> torch.Tensor:
    """Sum every sample site's log-density to shape (K, B): particle and data dims kept."""
    total: torch.Tensor | float = 0.0
    for site in trace.nodes.values():
        if (site["type"] != "sample" or site_is_subsample(site)
                or isinstance(site["fn"], dist.Unit)):
            continue
        log_p = site["fn"].log_prob(site["value"])
        if site["mask"] is not None:
            log_p = log_p * site["mask"]
        data_dims = [f.dim for f in site["cond_indep_stack"] if f.name == data_plate]
        if not data_dims:
            raise ValueError(f"site '{site['name']}' is outside the '{data_plate}' plate")
        log_p = log_p.reshape((1,) * (rank - log_p.dim()) + log_p.shape)
        data_dim = rank + data_dims[0]
        keep = {0, data_dim}
        sum_dims = [d for d in range(rank) if d not in keep]
        if sum_dims:
            log_p = log_p.sum(sum_dims)
        total = total + log_p
    assert torch.is_tensor(total)
    return total


def log_importance_weights(model: Callable[..., Any], guide: Callable[..., Any], *args: Any,
                           num_samples: int, max_plate_nesting: int,
                           data_plate: str = "data") -> torch.Tensor:
    """log p(x, z_k) - log q(z_k | x) for K vectorised guide samples, shape (K, B)."""
    particle_dim = -(max_plate_nesting + 1)

    def vectorised(fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(*a: Any) -> Any:
            with pyro.plate("importance_samples", num_samples, dim=particle_dim):
                return fn(*a)
        return wrapped

    guide_trace = poutine.trace(vectorised(guide)).get_trace(*args)
    model_trace = poutine.trace(poutine.replay(vectorised(model), trace=guide_trace)
                                ).get_trace(*args)
    rank = max_plate_nesting + 1
    log_p = _per_datum(model_trace, data_plate, rank)
    log_q = _per_datum(guide_trace, data_plate, rank)
    return (log_p - log_q).reshape(num_samples, -1)


def samples_per_pass(batch_points: int, num_samples: int,
                     points_per_pass: int = POINTS_PER_PASS) -> int:
    """Importance samples to draw in one vectorised pass so that a pass puts at most about
    ``points_per_pass`` data points through the nets (at least one sample per pass)."""
    return max(1, min(num_samples, points_per_pass // max(batch_points, 1)))


def chunked_log_importance_weights(model: Callable[..., Any], guide: Callable[..., Any],
                                   *args: Any, num_samples: int, max_plate_nesting: int,
                                   data_plate: str = "data", chunk_size: int = 100
                                   ) -> torch.Tensor:
    """:func:`log_importance_weights` drawn ``chunk_size`` samples at a time, shape (K, B).

    Each chunk is one vectorised pass of the guide and the model over
    ``chunk_size * B`` points (see :func:`samples_per_pass` to size it).
    """
    chunks = []
    remaining = num_samples
    while remaining > 0:
        k = min(chunk_size, remaining)
        chunks.append(log_importance_weights(model, guide, *args, num_samples=k,
                                             max_plate_nesting=max_plate_nesting,
                                             data_plate=data_plate))
        remaining -= k
    return torch.cat(chunks, dim=0)


def elbo_and_log_likelihood(log_w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """From log weights (K, B): the ELBO estimate mean_k log w_k and the importance-weighted
    log p(x) = logsumexp_k log w_k - log K, each per data point (B,)."""
    return log_w.mean(0), torch.logsumexp(log_w, dim=0) - math.log(log_w.shape[0])


@torch.no_grad()
def importance_log_likelihood(model: Callable[..., Any], guide: Callable[..., Any], *args: Any,
                              num_samples: int, max_plate_nesting: int, data_plate: str = "data",
                              chunk_size: int = 100) -> torch.Tensor:
    """The K-sample importance-weighted estimate of log p(x) per data point, shape (B,).

    Samples are drawn in chunks of ``chunk_size`` and combined with logsumexp,
    so memory does not grow with K.
    """
    log_w = chunked_log_importance_weights(model, guide, *args, num_samples=num_samples,
                                           max_plate_nesting=max_plate_nesting,
                                           data_plate=data_plate, chunk_size=chunk_size)
    return elbo_and_log_likelihood(log_w)[1]
