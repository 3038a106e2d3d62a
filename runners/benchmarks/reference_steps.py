"""Hand-written PyTorch losses of every model, on the library model's own nets and weights.

Each function computes, with plain tensor operations (closed-form log-densities,
an explicit sum over the enumerated classes, no Pyro), the loss that
``model.loss(elbo, batch)`` computes through Pyro for the model's default
options (default ELBO, diagonal guide). Noise is drawn in the order Pyro's guide
draws it, so on the same torch seed both give the same number, and the same
gradients. ``runners/benchmarks/step_overhead.py`` times the two against each
other; ``tests/test_reference_steps.py`` checks that they agree.

Supported: the default priors and guides of each model, Bernoulli, Normal and
Laplace likelihoods, CCVAE with one K-class label (``--label-kind targets``).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

from pyro_vaes.guides import positive
from pyro_vaes.models.base import Batch
from pyro_vaes.models.mlvae.accumulation import accumulate

HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def normal_log_prob(x: torch.Tensor, loc: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """log N(x; loc, scale^2), elementwise."""
    return -0.5 * ((x - loc) / scale) ** 2 - scale.log() - HALF_LOG_2PI


def standard_normal_log_prob(z: torch.Tensor) -> torch.Tensor:
    """log N(z; 0, 1) summed over the last dimension."""
    return (-0.5 * z ** 2 - HALF_LOG_2PI).sum(-1)


def normal_kl(loc_q: torch.Tensor, scale_q: torch.Tensor, loc_p: torch.Tensor | float,
              scale_p: torch.Tensor | float) -> torch.Tensor:
    """KL(N(loc_q, scale_q^2) || N(loc_p, scale_p^2)), elementwise."""
    var_ratio = (scale_q / scale_p) ** 2
    return 0.5 * (var_ratio + ((loc_q - loc_p) / scale_p) ** 2 - 1 - var_ratio.log())


def image_log_prob(model: torch.nn.Module, output: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """log p(x | decoder output) summed over (C, H, W) for the model's likelihood."""
    likelihood = model.config.likelihood
    if likelihood == "bernoulli":
        log_p = -F.binary_cross_entropy_with_logits(output, x.expand_as(output),
                                                    reduction="none")
    elif likelihood == "normal":
        loc = torch.sigmoid(output)
        log_p = normal_log_prob(x, loc, model.likelihood.log_scale.exp())
    elif likelihood == "laplace":
        log_p = -(x - torch.sigmoid(output)).abs() - math.log(2.0)
    else:  # pragma: no cover - guarded by the callers' configs
        raise ValueError(f"no reference for likelihood {likelihood!r}")
    return log_p.flatten(-3).sum(-1)


def diagonal_sample(guide: torch.nn.Module, h: torch.Tensor
                    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(z, loc, scale) with z = loc + scale * eps from a DiagonalNormalGuide's head."""
    loc, scale = guide.loc(h), positive(guide.raw_scale(h))
    eps = torch.empty_like(loc).normal_()
    return loc + eps * scale, loc, scale


# -- VAE ---------------------------------------------------------------------------------
def vae_loss(model: torch.nn.Module, batch: Batch) -> torch.Tensor:
    """-(log p(x|z) + beta (log p(z) - log q(z|x))) averaged over the batch (Trace_ELBO)."""
    x = batch.x
    z, loc, scale = diagonal_sample(model.posterior, model.encoder(x))
    log_q = normal_log_prob(z, loc, scale).sum(-1)
    elbo = image_log_prob(model, model.decoder(z), x) \
        + model.config.beta * (standard_normal_log_prob(z) - log_q)
    return -elbo.sum() / x.shape[0]


# -- M2 ----------------------------------------------------------------------------------
def m2_loss(model: torch.nn.Module, batch: Batch) -> torch.Tensor:
    """Labelled: -ELBO(x, y) - alpha log q(y|x); unlabelled: -sum_y q(y|x) [...] (exact)."""
    x, y = batch.x, batch.y
    k = model.num_classes
    h = model.encoder(x)
    logits = model.class_head(h)
    log_py = -math.log(k)
    if y is not None:
        one_hot = F.one_hot(y, k).to(h.dtype)
        z, loc, scale = diagonal_sample(model.posterior, torch.cat([h, one_hot], -1))
        elbo = (image_log_prob(model, model.decoder(torch.cat([z, one_hot], -1)), x)
                + log_py + standard_normal_log_prob(z) - normal_log_prob(z, loc, scale).sum(-1))
        log_qy = logits.log_softmax(-1).gather(-1, y.unsqueeze(-1)).squeeze(-1)
        return -elbo.sum() / x.shape[0] - model.config.aux_weight * log_qy.mean()
    eye = torch.eye(k, dtype=h.dtype, device=h.device).unsqueeze(1)        # (K, 1, K)
    features = torch.cat([h.expand(k, *h.shape), eye.expand(k, x.shape[0], k)], -1)
    z, loc, scale = diagonal_sample(model.posterior, features)              # (K, B, D)
    decoded = model.decoder(torch.cat([z, eye.expand(k, x.shape[0], k)], -1))
    log_q_y = logits.log_softmax(-1).T                                       # (K, B)
    per_class = (image_log_prob(model, decoded, x) + log_py + standard_normal_log_prob(z)
                 - normal_log_prob(z, loc, scale).sum(-1) - log_q_y)
    return -(log_q_y.exp() * per_class).sum() / x.shape[0]


# -- CCVAE -------------------------------------------------------------------------------
def _ccvae_guide(model: torch.nn.Module, x: torch.Tensor):
    """z_c, z_s drawn from q(z | x), their loc and scale split, and log q(z | x) per image."""
    loc, scale = model.posterior.loc_scale(model.encoder(x))
    size = model.label_space.size
    loc_c, loc_s = loc[..., :size], loc[..., size:]
    scale_c, scale_s = scale[..., :size], scale[..., size:]
    z_c = loc_c + torch.empty_like(loc_c).normal_() * scale_c
    z_s = loc_s + torch.empty_like(loc_s).normal_() * scale_s
    log_q = (normal_log_prob(z_c, loc_c, scale_c).sum(-1)
             + normal_log_prob(z_s, loc_s, scale_s).sum(-1))
    return z_c, z_s, loc_c, scale_c, log_q


def _conditional_log_prob(model: torch.nn.Module, z_c: torch.Tensor, on: torch.Tensor
                          ) -> torch.Tensor:
    """log p(z_c | y) summed over the latents; ``on`` (..., L) the 0/1 facts."""
    prior = model.conditional_prior
    scales = prior.scales()
    on = on > 0.5
    loc = torch.where(on, prior.loc[1], prior.loc[0])
    scale = torch.where(on, scales[1], scales[0])
    return normal_log_prob(z_c, loc, scale).sum(-1)


def ccvae_loss(model: torch.nn.Module, batch: Batch) -> torch.Tensor:
    """Labelled: minus the supervised bound (mean); unlabelled: minus the ELBO with y summed
    out exactly (per image)."""
    if not model.label_space.multiclass:
        raise ValueError("the reference CCVAE loss covers one K-class label (targets)")
    x, y = batch.x, batch.y
    size = model.label_space.size
    z_c, z_s, loc_c, scale_c, log_qz = _ccvae_guide(model, x)
    log_px = image_log_prob(model, model.decoder(torch.cat([z_c, z_s], -1)), x)
    log_pzs = standard_normal_log_prob(z_s)
    log_p_y = model.label_probs.log()                                        # (K,)
    logits = model.classifier.logits
    if y is None:
        log_q_y = logits(z_c).log_softmax(-1)                                # (B, K)
        eye = torch.eye(size, dtype=z_c.dtype, device=z_c.device)           # row k: y = k
        log_pzc = _conditional_log_prob(model, z_c.unsqueeze(-2), eye)      # (B, K)
        enumerated = (log_q_y.exp() * (log_p_y + log_pzc - log_q_y)).sum(-1)
        return -(enumerated + log_pzs + log_px - log_qz).sum() / x.shape[0]
    config = model.config
    log_pzc = _conditional_log_prob(model, z_c, F.one_hot(y, size).to(z_c.dtype))
    index = y.unsqueeze(-1)
    log_qy_zc = logits(z_c).log_softmax(-1).gather(-1, index).squeeze(-1)
    draws = loc_c + torch.empty(config.k_samples, *loc_c.shape, dtype=loc_c.dtype,
                                device=loc_c.device).normal_() * scale_c  # (K, B, L)
    log_qy_draws = logits(draws).log_softmax(-1).gather(
        -1, index.expand(config.k_samples, *index.shape)).squeeze(-1)       # (K, B)
    if config.weight_detach == "zc":
        numerator = logits(z_c.detach()).log_softmax(-1).gather(-1, index).squeeze(-1)
    else:
        numerator = log_qy_zc
    # q(y|x) from the outer sample and the K draws: K + 1 terms
    log_qy_x = (torch.logsumexp(torch.cat([numerator.unsqueeze(0), log_qy_draws]), 0)
                - math.log(config.k_samples + 1))
    weight = torch.exp(numerator - log_qy_x)
    if config.weight_detach == "all":
        weight = weight.detach()
    bound = (weight * (log_px + log_pzc + log_pzs - log_qy_zc - log_qz)
             + log_qy_x + log_p_y[y])
    return -bound.mean()


# -- ML-VAE ------------------------------------------------------------------------------
def mlvae_loss(model: torch.nn.Module, batch: Batch) -> torch.Tensor:
    """-(sum_i log p(x_i|c,s_i) - KL(q(c)||p(c)) - beta sum_i KL(q(s_i)||p(s))) / G,
    padded members masked (TraceMeanField_ELBO, analytic KL)."""
    x, mask = model.site_args(batch)
    features = model.encoder(x)                                              # (G, n, F)
    loc_c, scale_c = accumulate(model.config.accumulation,
                                *model.content_head.loc_scale(features), mask)
    eps_c = torch.empty_like(loc_c).normal_()
    c = (loc_c + eps_c * scale_c).unsqueeze(-2)                              # (G, 1, Dc)
    s, loc_s, scale_s = diagonal_sample(model.style_head, features)         # (G, n, Ds)
    z = torch.cat([c.expand(*s.shape[:-1], c.shape[-1]), s], -1)
    weight = mask.to(x.dtype)
    log_px = image_log_prob(model, model.decoder(z), x) * weight
    kl_c = normal_kl(loc_c, scale_c, 0.0, 1.0).sum(-1)
    kl_s = normal_kl(loc_s, scale_s, 0.0, 1.0).sum(-1) * weight
    elbo = log_px.sum() - kl_c.sum() - model.config.style_beta * kl_s.sum()
    return -elbo / x.shape[0]


# -- class-related VAE -------------------------------------------------------------------
def parted_loss(model: torch.nn.Module, batch: Batch) -> torch.Tensor:
    """-(BC factor + ELBO with c summed out where unlabelled) / B - alpha log q(y|x)."""
    x, y = batch.x, batch.y
    config = model.config
    k, b = model.num_classes, x.shape[0]
    h = model.encoder(x)
    logits = model.class_logits(h)
    log_pc = model.u_prior.logits.log_softmax(-1)                           # (K,)
    means, scales = model.u_prior.means, model.u_prior.scales
    penalty = config.gamma_bc * b * model.bhattacharyya_penalty() if config.gamma_bc > 0 \
        else 0.0
    classes = y if y is not None else torch.arange(k, device=x.device).unsqueeze(-1)
    u, loc_u, scale_u = diagonal_sample(model.u_head,
                                        model.attention(h, classes, model.slope))
    z, loc_z, scale_z = diagonal_sample(model.z_head, h)
    log_pz = standard_normal_log_prob(z) - normal_log_prob(z, loc_z, scale_z).sum(-1)
    decoded = model.decoder(torch.cat([z.expand(*u.shape[:-1], z.shape[-1]), u], -1))
    per_class = (image_log_prob(model, decoded, x) + log_pc[classes]
                 + normal_log_prob(u, means[classes], scales[classes]).sum(-1)
                 - normal_log_prob(u, loc_u, scale_u).sum(-1))
    if y is None:
        log_q_c = logits.log_softmax(-1).T                                   # (K, B)
        per_image = (log_q_c.exp() * (per_class - log_q_c)).sum(0)
    else:
        per_image = per_class
    loss = (penalty - (per_image + log_pz).sum()) / b
    if y is not None and config.alpha > 0:
        log_qy = logits.log_softmax(-1).gather(-1, y.unsqueeze(-1)).squeeze(-1)
        loss = loss - config.alpha * log_qy.mean()
    return loss


REFERENCE_LOSSES: dict[str, Callable[[torch.nn.Module, Batch], torch.Tensor]] = {
    "vae": vae_loss,
    "m2": m2_loss,
    "ccvae": ccvae_loss,
    "mlvae": mlvae_loss,
    "parted": parted_loss,
}
