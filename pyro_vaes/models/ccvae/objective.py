"""The CCVAE's supervised objective as a custom Pyro loss (docs/models/ccvae.md).

For a labelled pair (x, y), maximised::

    L(x, y) = E_q(z|x)[ w * log( p(x|z) p(z|y) / (q(y|z_c) q(z|x)) ) ] + log q(y|x) + log p(y)
    w       = q(y|z_c) / q(y|x)
    q(y|x)  ~ (1/(K+1)) [ q(y | z_c) + sum_k q(y | z_c^(k)) ],   z_c^(k) ~ q(z_c | x)

with z_c the outer sample and K = ``k_samples`` further draws. The outer
sample is one of the K + 1 draws of the estimate of q(y|x), so w is computed
in log space as log q(y|z_c) - logsumexp(...) + log(K + 1) and can never
exceed K + 1, whatever the encoder and classifier output (with the outer
sample left out, w is unbounded: one outer z_c in a region that the K draws
miss gives w = exp(hundreds), the loss spikes seen in long runs;
docs/models/ccvae.md, "Why w is bounded").

Following Pyro's "custom objectives" pattern, every density comes from two
traces: the guide run with y observed (log q(z|x), log q(y|z_c)) and the
model replayed against it (log p(x|z), log p(z|y), log p(y)). One z sample
per image estimates the outer expectation; the K extra draws of z_c are
reparameterised, so log q(y|x) passes gradients to the encoder.

Where gradients may flow through w is the option ``weight_detach``:

- ``"zc"`` (default, as the public code): the numerator q(y|z_c) of w, and
  so the outer sample's share of the estimate of q(y|x), is evaluated at z_c
  detached; the classifier's parameters and, through q(y|x)'s K draws, the
  encoder still receive gradients from w.
- ``"none"``: no detach; w is differentiated everywhere it depends on.
- ``"all"``: w is a constant (detached as a whole).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import torch
from pyro import poutine


def _per_datum(trace: poutine.Trace, *names: str) -> torch.Tensor:
    """Sum of the named sites' log-densities per image, (B,) (data plate at dim -2)."""
    return sum(trace.nodes[name]["log_prob"].sum(-1) for name in names)


class SupervisedTerms(NamedTuple):
    """The supervised bound L(x, y) per image, the weight w it used and the estimate of
    log q(y|x), each (B,)."""

    bound: torch.Tensor
    weight: torch.Tensor
    log_qy_x: torch.Tensor


def supervised_bound(model: Any, x: torch.Tensor, y: torch.Tensor, *,
                     k_samples: int | None = None,
                     weight_detach: str | None = None) -> torch.Tensor:
    """L(x, y) per image, (B,), of a CCVAE ``model`` (typed loosely: the model imports this
    module, never the other way round); options default to the model's config."""
    return supervised_terms(model, x, y, k_samples=k_samples, weight_detach=weight_detach).bound


def supervised_terms(model: Any, x: torch.Tensor, y: torch.Tensor, *,
                     k_samples: int | None = None,
                     weight_detach: str | None = None) -> SupervisedTerms:
    """L(x, y) and w = q(y|z_c) / q(y|x) per image; options default to the model's config."""
    k_samples = k_samples or model.config.k_samples
    weight_detach = weight_detach or model.config.weight_detach
    guide_trace = poutine.trace(model.guide).get_trace(x, y)
    model_trace = poutine.trace(poutine.replay(model.model, trace=guide_trace)).get_trace(x, y)
    guide_trace.compute_log_prob()
    model_trace.compute_log_prob()

    log_px_pz = _per_datum(model_trace, "x", "z_c", "z_s")   # log p(x|z) + log p(z|y)
    log_py = _per_datum(model_trace, "y")                     # log p(y)
    log_qz = _per_datum(guide_trace, "z_c", "z_s")            # log q(z|x)
    log_qy_zc = _per_datum(guide_trace, "y")                  # log q(y|z_c)

    y_site = guide_trace.nodes["y"]["value"]
    z_c = guide_trace.nodes["z_c"]["value"]
    draws = guide_trace.nodes["z_c"]["fn"].rsample((k_samples,))          # (K, B, L)
    if weight_detach == "zc":
        numerator = model.classifier.log_prob(y_site, z_c.detach())
    else:
        numerator = log_qy_zc
    log_qy_x = log_label_evidence(numerator, model.classifier.log_prob(y_site, draws))
    weight = torch.exp(numerator - log_qy_x)                              # <= K + 1
    if weight_detach == "all":
        weight = weight.detach()
    bound = weight * (log_px_pz - log_qy_zc - log_qz) + log_qy_x + log_py
    return SupervisedTerms(bound, weight, log_qy_x)


def log_label_evidence(outer: torch.Tensor, draws: torch.Tensor) -> torch.Tensor:
    """log q(y|x) estimated from the outer sample's log q(y|z_c) (B,) and K further draws'
    (K, B): logsumexp over all K + 1 minus log(K + 1).

    Because ``outer`` is one of the terms, ``outer - log_label_evidence(outer, draws)``
    is at most log(K + 1): the weight w of the supervised bound is bounded by K + 1.
    """
    terms = torch.cat([outer.unsqueeze(0), draws], 0)
    return torch.logsumexp(terms, 0) - math.log(terms.shape[0])
