"""Optional extra terms of the class-related VAE's loss (off by default).

Both come from the public code and are per-datum (batch means):

- JointVAE capacity targets: gamma (|C_cont(t) - KL_cont| + |C_disc(t) - KL_disc|) with
  KL_cont = KL(q(z|x) || N(0, I)) + sum_k q(k|x) KL(q(u|x,k) || N(mu_k, sigma_k)),
  KL_disc = KL(q(c|x) || pi), and C(t) = C_max min(1, t / T) at optimisation step t.
- Batch entropy terms on c: mean_b H[q(c|x_b)] - H[mean_b q(c|x_b)] (confident
  per-image predictions, every class used across the batch).
"""

from __future__ import annotations

import pyro.distributions as dist
import torch
from torch.distributions import kl_divergence


def analytic_kls(class_logits: torch.Tensor, prior_logits: torch.Tensor,
                 u_posteriors: dist.Normal, u_components: dist.Normal,
                 z_posterior: dist.Normal) -> tuple[torch.Tensor, torch.Tensor]:
    """Batch means of (KL_cont, KL_disc) as in the module docstring.

    ``u_posteriors`` has batch shape (K, B) (one per class), ``u_components``
    batch shape (K, 1), both with event shape (D_u,); ``z_posterior`` (B,).
    """
    log_q = class_logits.log_softmax(-1)
    log_pi = prior_logits.log_softmax(-1)
    kl_disc = (log_q.exp() * (log_q - log_pi)).sum(-1)
    kl_u = (log_q.exp().T * kl_divergence(u_posteriors, u_components)).sum(0)
    kl_z = kl_divergence(z_posterior, dist.Normal(torch.zeros_like(z_posterior.mean),
                                                  torch.ones_like(z_posterior.mean)
                                                  ).to_event(1))
    return (kl_u + kl_z).mean(), kl_disc.mean()


def capacity_penalty(kl_continuous: torch.Tensor, kl_discrete: torch.Tensor, *, step: int,
                     steps: int, max_continuous: float, max_discrete: float) -> torch.Tensor:
    """|C_cont(t) - KL_cont| + |C_disc(t) - KL_disc| with C(t) = C_max min(1, t / steps)."""
    return (capacity_hinge(kl_continuous, linear_capacity(step, steps, max_continuous), 1.0)
            + capacity_hinge(kl_discrete, linear_capacity(step, steps, max_discrete), 1.0))


def batch_entropy_terms(class_logits: torch.Tensor) -> torch.Tensor:
    """mean_b H[q(c|x_b)] - H[mean_b q(c|x_b)]: low when each q is sharp and all classes used."""
    probs = class_logits.softmax(-1)
    per_image = dist.Categorical(logits=class_logits).entropy().mean()
    marginal = dist.Categorical(probs=probs.mean(0)).entropy()
    return per_image - marginal


# -- the capacity objective (``--objective capacity``, the authors' recipe) ----------------
def linear_capacity(step: int, steps: int, maximum: float) -> float:
    """C(t) = C_max min(1, t / T): the target in nats at optimisation step t (1-based)."""
    return maximum * min(1.0, step / steps)


def capacity_hinge(kl: torch.Tensor, target: float, gamma: float) -> torch.Tensor:
    """gamma |C - KL|: pulls a KL towards its current capacity from either side."""
    return gamma * (target - kl).abs()


def batch_class_kl(class_probs: torch.Tensor, prior_logits: torch.Tensor) -> torch.Tensor:
    """KL(qbar || pi) with qbar = mean_b q(c | x_b): the batch's class use against the prior."""
    marginal = class_probs.mean(0)
    log_pi = prior_logits.log_softmax(-1)
    return (marginal * (marginal.clamp_min(1e-30).log() - log_pi)).sum()


def mean_class_entropy(class_probs: torch.Tensor) -> torch.Tensor:
    """mean_b H(q(c | x_b)): small when each image's class is sure."""
    return -(class_probs * class_probs.clamp_min(1e-30).log()).sum(-1).mean()


def enumerated_terms(class_probs: torch.Tensor, log_likelihoods: torch.Tensor,
                     u_kls: torch.Tensor, z_kls: torch.Tensor) -> dict[str, torch.Tensor]:
    """Batch means of the reconstruction E_q(c|x) E_q(u|x,c) q(z|x) log p(x | z, u), of
    E_q(c|x) KL(q(u|x,c) || p(u|c)) and of KL(q(z|x) || N(0, I)), with c summed exactly.

    ``class_probs`` (B, K); ``log_likelihoods`` and ``u_kls`` (K, B), one row per class;
    ``z_kls`` (B,).
    """
    weights = class_probs.T
    return {"recon": (weights * log_likelihoods).sum(0).mean(),
            "kl_u": (weights * u_kls).sum(0).mean(),
            "kl_z": z_kls.mean()}
