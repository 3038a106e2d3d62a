"""Latent sites of any model, found from traces.

``gaussian_latents(model, x)`` runs the model's guide on single images and
returns, for every continuous latent site whose guide distribution is
Gaussian (diagonal Normal, low-rank or full-covariance Normal), the mean and
the marginal standard deviation of each dimension, flattened to (B, D). Discrete
guide sites (labels, classes) are set to their most probable value, so a
latent that depends on them (the class-related u of the parted model) is
read under the predicted class. ``decode_latents(model, x, values)`` runs the
model with latent sites conditioned on given values and returns the mean of
the observation site ``"x"``: a traversal or a pruned reconstruction for any
model, through its own generative story.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyro.distributions as dist
import torch
from pyro import poutine
from pyro.poutine.messenger import Messenger
from pyro.poutine.util import site_is_subsample

DISCRETE = (dist.Categorical, dist.Bernoulli, dist.OneHotCategorical)


def _unwrap(fn: object) -> object:
    while isinstance(fn, (dist.Independent, dist.MaskedDistribution)):
        fn = fn.base_dist
    return fn


def _mode(fn: object) -> torch.Tensor:
    base = _unwrap(fn)
    if isinstance(base, dist.Categorical):
        return base.probs.argmax(-1)
    if isinstance(base, dist.OneHotCategorical):
        return torch.nn.functional.one_hot(base.probs.argmax(-1), base.probs.shape[-1]).to(
            base.probs.dtype)
    if isinstance(base, dist.Bernoulli):
        return (base.probs > 0.5).to(base.probs.dtype)
    raise TypeError(f"no mode for {type(base).__name__}")


class DiscreteModeMessenger(Messenger):
    """Set every unobserved discrete sample site to its most probable value."""

    def _pyro_sample(self, msg: dict) -> None:
        if msg["is_observed"] or msg["value"] is not None:
            return
        if isinstance(_unwrap(msg["fn"]), DISCRETE):
            msg["value"] = _mode(msg["fn"])


@dataclass
class LatentSite:
    """A Gaussian latent site: per-image means and marginal standard deviations (B, D)."""

    name: str
    loc: torch.Tensor
    scale: torch.Tensor

    @property
    def dim(self) -> int:
        return int(self.loc.shape[-1])


def _gaussian_parameters(fn: object) -> tuple[torch.Tensor, torch.Tensor] | None:
    base = _unwrap(fn)
    if isinstance(base, dist.Normal):
        return base.loc, base.scale
    if isinstance(base, (dist.MultivariateNormal, dist.LowRankMultivariateNormal)):
        return base.loc, base.variance.sqrt()
    return None


def _flatten(tensor: torch.Tensor, shape: torch.Size, data_dim: int) -> torch.Tensor:
    """Broadcast to the site's value shape and flatten to (B, D), data dim first."""
    value = torch.broadcast_to(tensor, shape)
    return value.movedim(data_dim, 0).reshape(shape[data_dim], -1)


def _data_dim(site: dict, plate: str, rank: int) -> int:
    dims = [f.dim for f in site["cond_indep_stack"] if f.name == plate]
    if not dims:
        raise ValueError(f"site '{site['name']}' is outside the '{plate}' plate")
    return rank + dims[0]


@torch.no_grad()
def guide_trace(model: torch.nn.Module, x: torch.Tensor) -> poutine.Trace:
    """The guide's trace on single images x (B, C, H, W), discrete sites at their mode."""
    args = model.site_args(model.image_batch(x))
    with DiscreteModeMessenger():
        return poutine.trace(model.guide).get_trace(*args)


@torch.no_grad()
def gaussian_latents(model: torch.nn.Module, x: torch.Tensor) -> dict[str, LatentSite]:
    """Mean and marginal standard deviation of every Gaussian latent site, each (B, D)."""
    trace = guide_trace(model, x)
    sites: dict[str, LatentSite] = {}
    for name, site in trace.nodes.items():
        if site["type"] != "sample" or site["is_observed"] or site_is_subsample(site):
            continue
        params = _gaussian_parameters(site["fn"])
        if params is None:
            continue
        value = site["value"]
        data_dim = _data_dim(site, model.data_plate, value.dim() - site["fn"].event_dim)
        loc, scale = (_flatten(p, value.shape, data_dim) for p in params)
        sites[name] = LatentSite(name, loc, scale)
    return sites


@torch.no_grad()
def gaussian_latents_of(model: torch.nn.Module, dataset, *, batch_size: int = 500,
                        limit: int | None = None,
                        device: torch.device | str = "cpu") -> dict[str, LatentSite]:
    """:func:`gaussian_latents` over (the first ``limit`` images of) a data set."""
    n = len(dataset) if limit is None else min(limit, len(dataset))
    parts: dict[str, list[LatentSite]] = {}
    for start in range(0, n, batch_size):
        idx = torch.arange(start, min(start + batch_size, n))
        for name, site in gaussian_latents(model, dataset.pixels(idx).to(device)).items():
            parts.setdefault(name, []).append(site)
    return {name: LatentSite(name, torch.cat([s.loc for s in ss]).cpu(),
                             torch.cat([s.scale for s in ss]).cpu())
            for name, ss in parts.items()}


@torch.no_grad()
def decode_latents(model: torch.nn.Module, x: torch.Tensor,
                   values: dict[str, torch.Tensor]) -> torch.Tensor:
    """Mean images E[x | latents] with the named sites set to ``values`` (each (B, D)).

    Sites not named keep the guide's value for x (discrete ones at their mode);
    the model is run with those values conditioned, and the mean of its
    observation site ``"x"`` is returned with the images' shape (B, C, H, W).
    """
    trace = guide_trace(model, x)
    data: dict[str, torch.Tensor] = {}
    for name, site in trace.nodes.items():
        if site["type"] != "sample" or site["is_observed"] or site_is_subsample(site):
            continue
        value = site["value"]
        if name in values:
            data_dim = _data_dim(site, model.data_plate, value.dim() - site["fn"].event_dim)
            moved = value.movedim(data_dim, 0)
            value = values[name].to(value.dtype).reshape(moved.shape).movedim(0, data_dim)
        data[name] = value
    args = model.site_args(model.image_batch(x))
    model_trace = poutine.trace(poutine.condition(model.model, data=data)).get_trace(*args)
    mean = model_trace.nodes["x"]["fn"].mean
    return mean.reshape(x.shape)


@torch.no_grad()
def prior_means(model: torch.nn.Module, x: torch.Tensor,
                names: list[str]) -> dict[str, torch.Tensor]:
    """The model's prior mean of each named site for images x, given the guide's values of the
    sites it depends on (e.g. a conditional prior under the predicted labels), each (B, D)."""
    trace = guide_trace(model, x)
    data = {n: s["value"] for n, s in trace.nodes.items()
            if s["type"] == "sample" and not s["is_observed"] and not site_is_subsample(s)}
    args = model.site_args(model.image_batch(x))
    model_trace = poutine.trace(poutine.condition(model.model, data=data)).get_trace(*args)
    out = {}
    for name in names:
        site = model_trace.nodes[name]
        value = site["value"]
        data_dim = _data_dim(site, model.data_plate, value.dim() - site["fn"].event_dim)
        out[name] = _flatten(site["fn"].mean, value.shape, data_dim)
    return out
