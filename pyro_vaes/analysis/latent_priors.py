"""The KL of each latent dimension to the model's own prior, for any model, from traces.

For a Gaussian guide site z with q(z_j | x) = N(mu_j(x), sigma_j(x)^2):

- ``kl_to_prior`` = E_x KL(q(z_j | x) || p(z_j)), with p(z_j) the model's prior of
  that dimension with every discrete variable summed out: N(0, 1) for a standard
  prior; the 1-D mixture sum_k pi_k N(m_kj, s_kj^2) for ``--prior mixture``; and
  for a conditional prior the mixture over the label, sum_y p(y) p(z_j | y)
  (CCVAE z_c: p(y_j = 1) N(m_j(1), s_j(1)^2) + p(y_j = 0) N(m_j(0), s_j(0)^2);
  class-related u: sum_c pi_c N(mu_cj, sigma_cj^2)). Closed form when p(z_j) is one
  Gaussian, Monte Carlo (``num_samples`` draws per image) when it is a mixture.
  Being a KL to a fixed distribution it bounds I(x; z_j) from above.
- ``kl_to_prior_given_label`` (only for sites whose prior depends on a label, and
  only when the images' labels are known) = E_x KL(q(z_j | x, y) || p(z_j | y)) at
  each image's true label y, the guide and the model both told y: the per-latent
  KL term of the labelled ELBO. Closed form.

The model's prior is read from the model itself: the model is run conditioned on
the guide's values of the continuous latents, with its discrete sites enumerated
in parallel (``poutine.enum``), so each latent site's distribution carries one
component per value of the discrete variables it depends on, weighted by their
prior probabilities.
"""

from __future__ import annotations

import math
from typing import Any

import pyro.distributions as dist
import torch
from pyro import poutine
from pyro.infer import config_enumerate
from pyro.poutine.util import site_is_subsample

from pyro_vaes.analysis.latent_sites import _data_dim, _flatten, _unwrap, guide_trace
from pyro_vaes.models.base import Batch

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def _latent_sites(trace: poutine.Trace) -> dict[str, dict]:
    return {name: site for name, site in trace.nodes.items()
            if site["type"] == "sample" and not site["is_observed"]
            and not site_is_subsample(site)}


def _is_discrete(fn: Any) -> bool:
    return bool(getattr(fn, "has_enumerate_support", False))


def _components(fn: Any) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None] | None:
    """(loc, scale, mixture log-weights or None) of a diagonal Gaussian or a mixture of
    them; a mixture's component dimension is moved to the front: loc (K, ..., D)."""
    base = _unwrap(fn)
    if isinstance(base, dist.Normal):
        return base.loc, base.scale, None
    if isinstance(base, dist.MixtureSameFamily):
        component = _unwrap(base.component_distribution)
        if not isinstance(component, dist.Normal):
            return None
        logits = base.mixture_distribution.logits.log_softmax(-1)
        return component.loc.movedim(-2, 0), component.scale.movedim(-2, 0), \
            logits.movedim(-1, 0)
    return None


def _pad(tensor: torch.Tensor, rank: int) -> torch.Tensor:
    """A (K, *rest) tensor as (K, 1, ..., 1, *rest) with ``rank`` dimensions after K."""
    return tensor.reshape(tensor.shape[:1] + (1,) * (rank + 1 - tensor.dim()) + tensor.shape[1:])


def _as_components(site: dict, log_weight: torch.Tensor | None, plate: str
                   ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, bool] | None:
    """The prior of one latent site as per-dimension mixtures: log-weights, locs and scales,
    each (E, B, D) (E = 1 for a single Gaussian), and whether the components come from the
    enumerated discrete variables (a prior that depends on a label)."""
    parts = _components(site["fn"])
    if parts is None:
        return None
    loc, scale, mixture = parts
    value, event_dim = site["value"], site["fn"].event_dim
    rank = value.dim()
    weights = []
    if mixture is not None:     # component dimension first, aligned with the value's dims
        loc, scale = _pad(loc, rank), _pad(scale, rank)
        weights.append(_pad(mixture.reshape(mixture.shape + (1,) * event_dim), rank))
        from_labels = loc.dim() > rank + 1
    else:
        from_labels = loc.dim() > rank or scale.dim() > rank
    if from_labels and log_weight is not None:
        weights.append(log_weight.reshape(log_weight.shape + (1,) * event_dim))
    tensors = [loc, scale, *weights]
    shape = torch.broadcast_shapes(*(t.shape for t in tensors), value.shape)
    flat = [t.expand(shape).reshape(-1, *value.shape) for t in tensors]
    log_w = sum(flat[2:]) if weights else torch.zeros_like(flat[0])
    data_dim = _data_dim(site, plate, rank - event_dim) + 1
    log_w, loc, scale = (t.movedim(data_dim, 1).reshape(t.shape[0], value.shape[data_dim - 1], -1)
                         for t in (log_w, flat[0], flat[1]))
    return log_w.log_softmax(0), loc, scale, from_labels


@torch.no_grad()
def prior_components(model: Any, x: torch.Tensor) -> dict[str, tuple[Any, ...]]:
    """For every Gaussian latent site of the guide: the model's marginal prior of each of its
    dimensions as (log-weights, locs, scales), each (E, B, D), discrete variables summed,
    and whether it depends on a label."""
    trace = guide_trace(model, x)
    continuous = {name: site["value"] for name, site in _latent_sites(trace).items()
                  if not _is_discrete(site["fn"])}
    args = model.site_args(model.image_batch(x))
    enumerated = poutine.enum(config_enumerate(poutine.condition(model.model, data=continuous)),
                              first_available_dim=-(model.max_plate_nesting + 1))
    model_trace = poutine.trace(enumerated).get_trace(*args)
    log_weight: torch.Tensor | None = None
    for site in _latent_sites(model_trace).values():
        if _is_discrete(site["fn"]):
            log_p = site["fn"].log_prob(site["value"])
            log_weight = log_p if log_weight is None else log_weight + log_p
    out = {}
    for name in continuous:
        if name in model_trace.nodes:
            parts = _as_components(model_trace.nodes[name], log_weight, model.data_plate)
            if parts is not None:
                out[name] = parts
    return out


def gaussian_kl(loc: torch.Tensor, scale: torch.Tensor, prior_loc: torch.Tensor,
                prior_scale: torch.Tensor) -> torch.Tensor:
    """KL(N(loc, scale^2) || N(prior_loc, prior_scale^2)), elementwise."""
    ratio = (scale / prior_scale) ** 2
    return 0.5 * (ratio + ((loc - prior_loc) / prior_scale) ** 2 - 1.0 - ratio.log())


def kl_to_mixture(loc: torch.Tensor, scale: torch.Tensor, log_w: torch.Tensor,
                  prior_loc: torch.Tensor, prior_scale: torch.Tensor, *, num_samples: int,
                  generator: torch.Generator | None = None) -> torch.Tensor:
    """KL(N(loc, scale^2) || sum_e w_e N(prior_loc_e, prior_scale_e^2)) per element of loc
    (B, D); the mixture (E, B, D). Closed form for E = 1, else Monte Carlo."""
    loc, scale = loc.double(), scale.double()
    log_w, prior_loc, prior_scale = log_w.double(), prior_loc.double(), prior_scale.double()
    if prior_loc.shape[0] == 1:
        return gaussian_kl(loc, scale, prior_loc[0], prior_scale[0])
    eps = torch.randn((num_samples, *loc.shape), generator=generator, dtype=torch.float64)
    z = loc + scale * eps                                               # (S, B, D)
    log_q = -0.5 * eps ** 2 - scale.log() - _HALF_LOG_2PI
    std = (z.unsqueeze(1) - prior_loc) / prior_scale                    # (S, E, B, D)
    log_p = torch.logsumexp(log_w - 0.5 * std ** 2 - prior_scale.log() - _HALF_LOG_2PI, dim=1)
    return (log_q - log_p).mean(0)


@torch.no_grad()
def labelled_prior_kls(model: Any, x: torch.Tensor, y: torch.Tensor,
                       names: list[str]) -> dict[str, torch.Tensor]:
    """KL(q(z_j | x, y) || p(z_j | y)) per image and dimension (B, D) for the named sites,
    the guide and the model both given the labels y."""
    args = model.site_args(Batch(x, y))
    trace = poutine.trace(model.guide).get_trace(*args)
    latents = {n: s["value"] for n, s in _latent_sites(trace).items()}
    model_trace = poutine.trace(poutine.condition(model.model, data=latents)).get_trace(*args)
    out = {}
    for name in names:
        q, p = trace.nodes[name], model_trace.nodes[name]
        q_parts, p_parts = _components(q["fn"]), _components(p["fn"])
        if q_parts is None or p_parts is None or p_parts[2] is not None:
            continue
        value = q["value"]
        data_dim = _data_dim(q, model.data_plate, value.dim() - q["fn"].event_dim)
        flat = [_flatten(t, value.shape, data_dim).double()
                for t in (*q_parts[:2], *p_parts[:2])]
        out[name] = gaussian_kl(*flat)
    return out


@torch.no_grad()
def prior_kls_of(model: Any, dataset: Any, *, labels: torch.Tensor | None = None,
                 limit: int | None = None, batch_size: int = 500, num_samples: int = 16,
                 generator: torch.Generator | None = None,
                 device: torch.device | str = "cpu") -> dict[str, dict[str, torch.Tensor]]:
    """``kl_to_prior`` (and, with ``labels``, ``kl_to_prior_given_label`` for the sites whose
    prior depends on a label) of every Gaussian latent site over (the first ``limit``
    images of) a data set: {site: {column: tensor (D,)}}, float64."""
    from pyro_vaes.analysis.latent_sites import gaussian_latents

    n = len(dataset) if limit is None else min(limit, len(dataset))
    sums: dict[str, dict[str, torch.Tensor]] = {}
    for start in range(0, n, batch_size):
        idx = torch.arange(start, min(start + batch_size, n))
        x = dataset.pixels(idx).to(device)
        priors = prior_components(model, x)
        conditional = []
        for name, site in gaussian_latents(model, x).items():
            if name not in priors:
                continue
            log_w, prior_loc, prior_scale, from_labels = priors[name]
            kl = kl_to_mixture(site.loc, site.scale, log_w, prior_loc, prior_scale,
                               num_samples=num_samples, generator=generator)
            _add(sums, name, "kl_to_prior", kl.sum(0).cpu())
            if from_labels:
                conditional.append(name)
        if labels is not None and conditional:
            given = labelled_prior_kls(model, x, labels[idx].to(device), conditional)
            for name, kl in given.items():
                _add(sums, name, "kl_to_prior_given_label", kl.sum(0).cpu())
    return {name: {column: total / n for column, total in columns.items()}
            for name, columns in sums.items()}


def _add(sums: dict, name: str, column: str, value: torch.Tensor) -> None:
    site = sums.setdefault(name, {})
    site[column] = site[column] + value if column in site else value
