"""The CCVAE's supervised objective as a custom Pyro loss (docs/models/ccvae.md).

For a labelled pair (x, y), maximised::

    L(x, y) = E_q(z|x)[ w * log( p(x|z) p(z|y) / (q(y|z_c) q(z|x)) ) ] + log q(y|x) + log p(y)
    w       = q(y|z_c) / q(y|x)
    q(y|x)  ~ (1/K) sum_k q(y | z_c^(k)),   z_c^(k) ~ q(z_c | x)   (K = ``k_samples``)

Following Pyro's "custom objectives" pattern, every density comes from two
traces: the guide run with y observed (log q(z|x), log q(y|z_c)) and the
model replayed against it (log p(x|z), log p(z|y), log p(y)). One z sample
per image estimates the outer expectation; the K extra draws of z_c are
reparameterised, so log q(y|x) passes gradients to the encoder.

Where gradients may flow through w is the option ``weight_detach``:

- ``"zc"`` (default, as the public code): the numerator q(y|z_c) of w is
  evaluated at z_c detached; the classifier's parameters and, through
  q(y|x)'s K draws, the encoder still receive gradients from w.
- ``"none"``: no detach; w is differentiated everywhere it depends on.
- ``"all"``: w is a constant (detached as a whole).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch
from pyro import poutine

if TYPE_CHECKING:
    from pyro_vaes.models.ccvae.model import CCVAE


def _per_datum(trace: poutine.Trace, *names: str) -> torch.Tensor:
    """Sum of the named sites' log-densities per image, (B,) (data plate at dim -2)."""
    return sum(trace.nodes[name]["log_prob"].sum(-1) for name in names)


def supervised_bound(model: CCVAE, x: torch.Tensor, y: torch.Tensor, *,
                     k_samples: int | None = None,
                     weight_detach: str | None = None) -> torch.Tensor:
    """L(x, y) per image, (B,); options default to the model's config."""
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
    log_qy_x = (torch.logsumexp(model.classifier.log_prob(y_site, draws), 0)
                - math.log(k_samples))                                    # log q(y|x)

    if weight_detach == "zc":
        numerator = model.classifier.log_prob(y_site, z_c.detach())
    else:
        numerator = log_qy_zc
    weight = torch.exp(numerator - log_qy_x)
    if weight_detach == "all":
        weight = weight.detach()
    return weight * (log_px_pz - log_qy_zc - log_qz) + log_qy_x + log_py
