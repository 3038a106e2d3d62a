"""Where the information goes: the ELBO split into its terms, for any model/guide pair.

On a batch, with the labels hidden (as ``val_elbo`` sees it), the guide is traced once
(sites marked for enumeration are sampled instead) and the model replayed against it, both
with every ``poutine.scale`` undone and every ``pyro.factor`` left out
(:func:`unpenalised`, which ``val_elbo`` uses too). Per data point of the model's
``data_plate`` (an image, or for the ML-VAE a group: its members' terms are summed):

- ``recon``: E_q[log p(x | latents)], the model's observed sites (the data; labels are
  hidden, so never among them);
- ``kl_<site>``: E_q[log q(site | ...) - log p(site | ...)] for every latent site, so that
  ``recon - sum of kl_<site>`` is the ELBO. Where the guide's and the model's distributions
  at the site have a closed-form KL (Normal, Independent Normal, Categorical, Bernoulli)
  with the same mask, and every latent the model's distribution may depend on (the model's
  earlier latents) is drawn before the site in the guide, the KL is the closed form
  given the earlier draws (exact in expectation); otherwise the one-sample Monte Carlo
  difference. Unscaled: a beta-VAE's KL is reported without beta;
- ``entropy_<site>``: the entropy of each discrete latent site of the guide, e.g. H(q(c|x))
  (at the latents the guide draws before it: the CCVAE's q(y | z_c));
- ``supervised_ce``: on a batch with labels, -log q(y | ...) of the guide's label site(s) at
  the true label (summed over binary attributes): the cross-entropy of the classifier the
  guide holds.

All of it from Pyro traces: nothing is asked of the model beyond ``model``, ``guide``,
``site_args`` and ``data_plate``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyro.distributions as dist
import torch
from pyro import poutine
from pyro.distributions.util import scale_and_mask
from pyro.poutine.messenger import Messenger
from pyro.poutine.runtime import NonlocalExit
from pyro.poutine.util import site_is_subsample
from torch.distributions import kl_divergence

from pyro_vaes.inference.elbo_classes import sample_instead
from pyro_vaes.models.base import Batch

KEY_PREFIXES = ("val_recon", "val_kl_", "val_entropy_", "val_supervised_ce")
"""How the keys these terms take in a validation record begin."""


def is_diagnostic(key: str) -> bool:
    """True for a validation record's key that holds one of these terms."""
    return key.startswith(KEY_PREFIXES)


class _UnitScale(Messenger):
    """Reset every sample site's scale to 1 (undoes ``poutine.scale`` applied inside)."""

    def _process_message(self, msg: dict) -> None:
        if msg["type"] == "sample":
            msg["scale"] = 1.0


def _is_factor(msg: dict) -> bool:
    return msg["type"] == "sample" and isinstance(msg["fn"], dist.Unit)


def unpenalised(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` (a model or a guide) with every site at scale 1 and its ``pyro.factor`` sites
    hidden: what remains is the generative story (or the guide) of the ELBO itself."""
    def wrapped(*args: Any) -> Any:
        with poutine.block(hide_fn=_is_factor), _UnitScale():
            return fn(*args)
    return wrapped


def _latent(site: dict) -> bool:
    return (site["type"] == "sample" and not site["is_observed"]
            and not site_is_subsample(site))


def _observed(site: dict) -> bool:
    return site["type"] == "sample" and site["is_observed"] and not site_is_subsample(site)


def per_point(values: torch.Tensor, site: dict, plate: str, size: int) -> torch.Tensor:
    """A site's per-element values (its batch shape) summed to one value per data point of
    ``plate`` (size ``size``); a site outside that plate is spread evenly over the points."""
    frame = next((f for f in site["cond_indep_stack"] if f.name == plate), None)
    if frame is None:
        return values.sum().expand(size) / size
    while values.dim() < -frame.dim:
        values = values.unsqueeze(0)
    values = values.movedim(frame.dim, 0)
    return values.reshape(values.shape[0], -1).sum(-1).expand(size)


def _same_mask(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if torch.is_tensor(a) and torch.is_tensor(b):
        return a.shape == b.shape and bool(torch.equal(a, b))
    return a is b


def closed_form_kl(guide_site: dict, model_site: dict) -> torch.Tensor | None:
    """KL(q || p) element-wise (the sites' batch shape, masked), or None where torch knows
    no closed form for the pair or the masks differ."""
    if not _same_mask(guide_site["mask"], model_site["mask"]):
        return None
    try:
        kl = kl_divergence(guide_site["fn"], model_site["fn"])
    except NotImplementedError:
        return None
    return scale_and_mask(kl, mask=guide_site["mask"])


def traces(model: Any, batch: Batch) -> tuple[Any, Any]:
    """The guide traced on ``batch`` with its labels hidden (enumerated sites sampled), and
    the model replayed against it; both at scale 1 without factors, log-densities computed."""
    args = model.site_args(Batch(batch.x, None, batch.mask, batch.extra))
    guide = poutine.infer_config(unpenalised(model.guide), sample_instead)
    guide_trace = poutine.trace(guide).get_trace(*args)
    replayed = poutine.replay(unpenalised(model.model), trace=guide_trace)
    model_trace = poutine.trace(replayed).get_trace(*args)
    guide_trace.compute_log_prob()
    model_trace.compute_log_prob()
    return guide_trace, model_trace


def label_values(model: Any, batch: Batch) -> dict[str, torch.Tensor]:
    """The value each label site of the model takes on a labelled batch, in the site's own
    shape: the sites the model observes with the labels given, before its first latent
    (the model is stopped there, so the decoder does not run). Empty without labels."""
    if batch.y is None:
        return {}
    stop: Callable[[dict], bool] = _latent
    traced = poutine.trace(poutine.escape(unpenalised(model.model), escape_fn=stop))
    try:
        traced.get_trace(*model.site_args(batch))
    except NonlocalExit:
        pass
    return {name: site["value"] for name, site in traced.msngr.trace.nodes.items()
            if _observed(site)}


def diagnose(model: Any, batch: Batch) -> dict[str, torch.Tensor]:
    """``recon``, ``kl_<site>``, ``entropy_<site>`` and, on a labelled batch,
    ``supervised_ce``, each a tensor with one value per data point (see the module
    docstring)."""
    guide_trace, model_trace = traces(model, batch)
    plate, size = model.data_plate, batch.size
    guide_order = [name for name, site in guide_trace.nodes.items() if _latent(site)]
    out: dict[str, torch.Tensor] = {}
    recon: torch.Tensor | float = 0.0
    earlier: list[str] = []                      # the model's latents so far
    for name, site in model_trace.nodes.items():
        if _observed(site):
            recon = recon + per_point(site["log_prob"], site, plate, size)
            continue
        if not _latent(site):
            continue
        guide_site = guide_trace.nodes.get(name)
        if guide_site is None or not _latent(guide_site):  # drawn from the prior: only log p
            out[f"kl_{name}"] = -per_point(site["log_prob"], site, plate, size)
        else:
            position = guide_order.index(name)
            kl = None
            if all(prev in guide_order[:position] for prev in earlier):
                kl = closed_form_kl(guide_site, site)
            if kl is None:
                kl = guide_site["log_prob"] - site["log_prob"]
            out[f"kl_{name}"] = per_point(kl, guide_site, plate, size)
        earlier.append(name)
    out = {"recon": torch.as_tensor(recon).expand(size), **out}
    for name in guide_order:
        site = guide_trace.nodes[name]
        if site["fn"].support.is_discrete:
            entropy = scale_and_mask(site["fn"].entropy(), mask=site["mask"])
            out[f"entropy_{name}"] = per_point(entropy, site, plate, size)
    labels = {name: value for name, value in label_values(model, batch).items()
              if name in guide_order}
    if labels:
        ce: torch.Tensor | float = 0.0
        for name, value in labels.items():
            site = guide_trace.nodes[name]
            nll = -scale_and_mask(site["fn"].log_prob(value), mask=site["mask"])
            ce = ce + per_point(nll, site, plate, size)
        out["supervised_ce"] = torch.as_tensor(ce)
    return out
