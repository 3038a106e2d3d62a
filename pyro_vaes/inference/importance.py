"""Importance-weighted estimates of log p(x) from any model/guide pair.

With K guide samples z_k ~ q(z | x):

    log p(x) >= log (1/K) sum_k p(x, z_k) / q(z_k | x)          (IWAE bound)

which tends to log p(x) as K grows. Densities are evaluated without the
sites' ``poutine.scale`` (the beta of a beta-VAE changes the objective, not the
model's density) and with their masks; ``pyro.factor`` terms are left out.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import pyro
import pyro.distributions as dist
import torch
from pyro import poutine
from pyro.poutine.util import site_is_subsample

from pyro_vaes.errors import ConfigError

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


@dataclass(frozen=True)
class PointEstimate:
    """A mean over data points with its standard error: ``mean`` of the per-point values,
    ``stderr`` = their sample standard deviation / sqrt(``points``) (0 for one point),
    ``points`` the data points averaged (images, or groups for grouped models) and
    ``images`` the images they hold."""

    mean: float
    stderr: float
    points: int
    images: int


def point_estimate(values: torch.Tensor, images: int) -> PointEstimate:
    """Mean and standard error of per-point values (1-D), accumulated in float64."""
    values = values.double()
    n = int(values.numel())
    if n == 0:
        raise ValueError("no data points to average")
    stderr = float(values.std(correction=1)) / math.sqrt(n) if n > 1 else 0.0
    return PointEstimate(float(values.mean()), stderr, n, images)


def choose_points(total: int, count: int | None, seed: int) -> torch.Tensor | None:
    """A uniformly random subset of ``count`` of ``total`` point indices, sorted, drawn from
    its own generator seeded with ``seed``; None (every point) when ``count`` is None or
    at least ``total``."""
    if count is None or count >= total:
        return None
    generator = torch.Generator().manual_seed(seed)
    return torch.randperm(total, generator=generator)[:count].sort().values


def per_point_bounds(model: Any, batches: Iterable[Any], num_samples: int, *,
                     keep: torch.Tensor | None = None,
                     on_batch: Callable[[int], None] | None = None
                     ) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Per data point, the K-sample ELBO estimate mean_k log w_k and the importance-weighted
    bound logsumexp_k log w_k - log K, each (N,) on the CPU, and the images they hold.

    ``model`` is a :class:`pyro_vaes.models.LatentVariableModel` (its ``model``, ``guide``,
    ``site_args``, ``max_plate_nesting`` and ``data_plate``); ``batches`` its evaluation
    batches in order; labels are never observed. ``keep``: sorted indices of the points to
    use, counted across the batches (None: all). Samples are drawn in vectorised passes of
    about ``POINTS_PER_PASS`` points (:func:`samples_per_pass`). ``on_batch(points)`` is
    called after each batch with the points it added.
    """
    elbos, bounds = [], []
    images, start = 0, 0
    for batch in batches:
        size = int(batch.x.shape[0])
        x, mask = batch.x, batch.mask
        if keep is not None:
            inside = keep[(keep >= start) & (keep < start + size)] - start
            start += size
            if inside.numel() == 0:
                if on_batch is not None:
                    on_batch(0)
                continue
            x = x[inside.to(x.device)]
            mask = mask[inside.to(mask.device)] if mask is not None else None
        args = model.site_args(type(batch)(x, None, mask, {}))
        points = int(args[0].shape[0]) * (int(args[0].shape[1]) if args[0].dim() == 5 else 1)
        log_w = chunked_log_importance_weights(
            model.model, model.guide, *args, num_samples=num_samples,
            max_plate_nesting=model.max_plate_nesting, data_plate=model.data_plate,
            chunk_size=samples_per_pass(points, num_samples))
        elbo, bound = elbo_and_log_likelihood(log_w)
        elbos.append(elbo.double().cpu())
        bounds.append(bound.double().cpu())
        images += int(mask.sum()) if mask is not None else int(x.shape[0])
        if on_batch is not None:
            on_batch(int(log_w.shape[1]))
    return torch.cat(elbos), torch.cat(bounds), images


IW_IMAGES = 1000
"""Images of the K-sample bound in ``pyro-vaes evaluate`` by default (``"auto"``): a seeded
uniform subset of the data points holding about this many (the whole split when smaller),
its standard error reported beside it. Measured: docs/benchmarks.md, "Evaluation time"."""


def likelihood_figures(model: Any, batches: list[Any], split: str, num_samples: int, *,
                       iw_points: int | str = "auto", seed: int = 0,
                       progress: bool = False) -> dict[str, Any]:
    """``evaluate``'s likelihood measures of one split, each with its standard error, the
    points it averaged and the images they hold.

    - ``{split}_elbo``: the ELBO (one guide sample per point) over every point of ``batches``;
    - ``{split}_iw_log_likelihood``: the ``num_samples``-sample importance-weighted bound on
      ``iw_points`` points drawn uniformly without replacement with ``seed``: ``"auto"``
      takes as many points as hold about :data:`IW_IMAGES` images (the whole split when
      smaller; for grouped models a point is a group), ``"all"`` the whole split; a
      number larger than the split is refused.

    ``progress`` shows one bar per pass on stderr, saying what it computes.
    """
    from tqdm.auto import tqdm

    total = sum(int(batch.x.shape[0]) for batch in batches)
    if iw_points == "auto":   # about IW_IMAGES images: fewer points when a point is a group
        images = sum(int(b.mask.sum()) if b.mask is not None else int(b.x.shape[0])
                     for b in batches)
        iw_points = min(total, max(1, round(IW_IMAGES * total / max(images, 1))))
    elif iw_points == "all":
        iw_points = total
    elif not isinstance(iw_points, int) or not 1 <= iw_points <= total:
        raise ConfigError(f"--iw-images {iw_points}: the {split} split has {total} data "
                          f"points; give 1 to {total}, or all")
    keep = choose_points(total, iw_points, seed)
    chosen = total if keep is None else int(keep.numel())
    figures: dict[str, Any] = {}
    passes = [("elbo", 1, None, f"{split} ELBO, 1 sample x {total} points"),
              ("iw_log_likelihood", num_samples, keep,
               f"{split} {num_samples}-sample bound, {chosen}"
               + ("" if keep is None else f" of {total}") + " points")]
    for name, samples, subset, description in passes:
        with tqdm(total=chosen if subset is not None else total, desc=f"evaluate: {description}",
                  unit="pt", disable=not progress, leave=True) as bar:
            elbo, bound, images = per_point_bounds(model, batches, samples, keep=subset,
                                                   on_batch=bar.update)
        estimate = point_estimate(elbo if name == "elbo" else bound, images)
        figures.update({f"{split}_{name}": estimate.mean,
                        f"{split}_{name}_stderr": estimate.stderr,
                        f"{split}_{name}_points": estimate.points,
                        f"{split}_{name}_images": estimate.images})
    figures.update({"num_points": total, "importance_samples": num_samples,
                    "iw_subset": "all" if keep is None else f"{chosen} of {total}, seed {seed}"})
    return figures
