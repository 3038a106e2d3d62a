"""The CCVAE's objectives against hand computations and brute-force sums.

- The supervised bound L(x, y) equals the formula of MODELS.md section 3
  recomputed term by term from the same z samples (z fixed through
  ``poutine.condition``; the K draws of q(y|x) replayed from the same seed).
- Its gradients equal those of the hand formula with exactly the documented
  detaches, for each ``weight_detach`` setting, and reach every part.
- The enumerated unsupervised ELBO equals the explicit sum over all 2^L label
  vectors (L = 3) and over all K classes; Trace_ELBO (y sampled) agrees on average.
"""

from __future__ import annotations

import itertools
import math

import pyro
import pytest
import torch
import torch.nn.functional as F

from pyro_vaes.inference import make_elbo
from pyro_vaes.models.base import Batch, DataInfo
from pyro_vaes.models.ccvae import CCVAE, CCVAEConfig
from pyro_vaes.models.ccvae.objective import (
    log_label_evidence,
    supervised_bound,
    supervised_terms,
)

K_SAMPLES = 7
B = 4


def tiny_ccvae(kind: str, size: int = 3) -> CCVAE:
    """A CCVAE on 1x1x3 images with every label-side parameter set away from its start."""
    if kind == "attributes":
        info = DataInfo((1, 1, 3), attribute_names=[f"a{i}" for i in range(size)])
    else:
        info = DataInfo((1, 1, 3), num_classes=size, class_names=[f"c{i}" for i in range(size)])
    torch.manual_seed(0)
    model = CCVAE(CCVAEConfig(latent_dim=size + 2, hidden_dim=5, label_kind=kind,
                              k_samples=K_SAMPLES), info)
    generator = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for p in (model.conditional_prior.loc, model.conditional_prior.raw_scale,
                  model.classifier.weight, model.classifier.bias):
            p.add_(0.5 * torch.randn(p.shape, generator=generator))
        if kind == "attributes":
            model.observe_labelled(torch.tensor([[1.0] * size, [0.0] * size, [1.0] + [0.0] *
                                                 (size - 1)]))
        else:
            model.observe_labelled(torch.tensor([0, 0, 1]))
    return model


def data(kind: str, size: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(5)
    x = torch.rand(B, 1, 1, 3, generator=generator)
    if kind == "attributes":
        y = torch.randint(0, 2, (B, size), generator=generator).float()
    else:
        y = torch.randint(0, size, (B,), generator=generator)
    return x, y


# -- the terms, written out ---------------------------------------------------------------
def normal_log_pdf(v: torch.Tensor, loc: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    return -0.5 * math.log(2 * math.pi) - torch.log(scale) - 0.5 * ((v - loc) / scale) ** 2


def log_q_y_given_zc(model: CCVAE, y: torch.Tensor, z_c: torch.Tensor) -> torch.Tensor:
    logits = z_c * model.classifier.weight + model.classifier.bias
    if model.label_space.multiclass:  # y: (B,) classes, logits (..., B, K)
        return torch.log_softmax(logits, -1)[..., torch.arange(y.shape[0]), y]
    return (y * F.logsigmoid(logits) + (1 - y) * F.logsigmoid(-logits)).sum(-1)


def indicators(model: CCVAE, y: torch.Tensor) -> torch.Tensor:
    if model.label_space.multiclass:
        return F.one_hot(y, model.label_space.size).float()
    return y


def log_p_zc_given_y(model: CCVAE, z_c: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    on = indicators(model, y)
    loc = model.conditional_prior.loc
    scale = F.softplus(model.conditional_prior.raw_scale).clamp(min=1e-3)
    m = on * loc[1] + (1 - on) * loc[0]
    s = on * scale[1] + (1 - on) * scale[0]
    return normal_log_pdf(z_c, m, s).sum(-1)


def log_p_y(model: CCVAE, y: torch.Tensor) -> torch.Tensor:
    pi = model.label_probs
    if model.label_space.multiclass:
        return torch.log(pi[y])
    return (y * torch.log(pi) + (1 - y) * torch.log(1 - pi)).sum(-1)


def log_p_x_given_z(model: CCVAE, x: torch.Tensor, z_c: torch.Tensor,
                    z_s: torch.Tensor) -> torch.Tensor:
    logits = model.decoder(torch.cat([z_c, z_s], -1))
    return (x * F.logsigmoid(logits) + (1 - x) * F.logsigmoid(-logits)).flatten(-3).sum(-1)


def hand_bound(model: CCVAE, x, y, z_c, z_s, draws, weight_detach: str) -> torch.Tensor:
    loc_c, scale_c, loc_s, scale_s = model.encode(x)
    log_pxz = (log_p_x_given_z(model, x, z_c, z_s) + log_p_zc_given_y(model, z_c, y)
               + normal_log_pdf(z_s, torch.zeros(()), torch.ones(())).sum(-1))
    log_qz = (normal_log_pdf(z_c, loc_c, scale_c).sum(-1)
              + normal_log_pdf(z_s, loc_s, scale_s).sum(-1))
    log_qy_zc = log_q_y_given_zc(model, y, z_c)
    numerator = log_q_y_given_zc(model, y, z_c.detach()) if weight_detach == "zc" else log_qy_zc
    # q(y|x) from the outer sample and the K further draws: (e^a + sum_k e^b_k) / (K + 1)
    evidence = numerator.exp() + log_q_y_given_zc(model, y, draws).exp().sum(0)
    log_qy_x = torch.log(evidence / (K_SAMPLES + 1))
    w = numerator.exp() / (evidence / (K_SAMPLES + 1))
    if weight_detach == "all":
        w = w.detach()
    return w * (log_pxz - log_qy_zc - log_qz) + log_qy_x + log_p_y(model, y)


def implemented_and_hand(model: CCVAE, kind: str, weight_detach: str):
    """The implemented bound and the hand formula on the same draws: from one seed, the
    guide draws z_c, then z_s, then the K draws of z_c for q(y | x); the hand version
    replays those three reparameterised draws (so gradients reach the encoder in both)."""
    x, y = data(kind, model.label_space.size)
    torch.manual_seed(21)
    implemented = supervised_bound(model, x, y, weight_detach=weight_detach)
    torch.manual_seed(21)
    loc_c, scale_c, loc_s, scale_s = model.encode(x)
    q_c = torch.distributions.Normal(loc_c, scale_c)
    z_c = q_c.rsample()
    z_s = torch.distributions.Normal(loc_s.unsqueeze(-2), scale_s.unsqueeze(-2)).rsample()
    draws = q_c.rsample((K_SAMPLES,))
    hand = hand_bound(model, x, y, z_c, z_s.squeeze(-2), draws, weight_detach)
    return implemented, hand


@pytest.mark.parametrize("kind", ["attributes", "targets"])
def test_supervised_bound_equals_the_formula_by_hand(kind):
    model = tiny_ccvae(kind)
    implemented, hand = implemented_and_hand(model, kind, "zc")
    assert implemented.shape == (B,)
    torch.testing.assert_close(implemented, hand, rtol=1e-5, atol=1e-5)


PARTS = {"encoder": lambda m: [*m.encoder.parameters(), *m.posterior.parameters()],
         "decoder": lambda m: list(m.decoder.parameters()),
         "classifier": lambda m: list(m.classifier.parameters()),
         "conditional prior": lambda m: list(m.conditional_prior.parameters())}


def gradients(model: CCVAE, value: torch.Tensor) -> list[torch.Tensor]:
    params = list(model.parameters())
    return [g if g is not None else torch.zeros_like(p)
            for p, g in zip(params, torch.autograd.grad(value.sum(), params, allow_unused=True),
                            strict=True)]


@pytest.mark.parametrize("kind", ["attributes", "targets"])
def test_supervised_gradients_follow_the_documented_detaches(kind):
    grads = {}
    for setting in ("zc", "none", "all"):
        model = tiny_ccvae(kind)
        implemented, hand = implemented_and_hand(model, kind, setting)
        got, want = gradients(model, implemented), gradients(model, hand)
        for g, w in zip(got, want, strict=True):
            torch.testing.assert_close(g, w, rtol=1e-4, atol=1e-5)
        named = dict(zip([n for n, _ in model.named_parameters()], got, strict=True))
        for part, params in PARTS.items():
            ids = {id(p) for p in params(model)}
            total = sum(float(named[n].norm()) for n, p in model.named_parameters()
                        if id(p) in ids)
            assert total > 0, f"no gradient reaches the {part} under weight_detach={setting}"
        grads[setting] = named
    # The detaches change the gradients where documented: z_c in the weight's numerator
    # (encoder), the whole weight (classifier).
    enc = "posterior.loc.weight"
    assert not torch.allclose(grads["zc"][enc], grads["none"][enc])
    assert not torch.allclose(grads["zc"]["classifier.weight"], grads["all"]["classifier.weight"])
    # ... and nowhere else: the decoder sees the weight only as a factor.
    dec = next(n for n in grads["zc"] if n.startswith("decoder"))
    torch.testing.assert_close(grads["zc"][dec], grads["none"][dec])


# -- the weight w = q(y|z_c) / q(y|x) is bounded by K + 1 ----------------------------------
def test_label_evidence_includes_the_outer_sample():
    outer = torch.tensor([0.0, -1e4, -2.0])
    draws = torch.tensor([[-1e4, 0.0, -1.0], [-1e4, 0.0, -3.0]])            # K = 2
    got = log_label_evidence(outer, draws)
    expected = torch.log((outer.double().exp() + draws.double().exp().sum(0)) / 3).float()
    torch.testing.assert_close(got, expected)
    weight = torch.exp(outer - got)
    # the first image: its outer sample is the only one where q(y|z_c) is not ~0 -> w = K + 1
    torch.testing.assert_close(weight[0], torch.tensor(3.0))
    # leaving the outer sample out (the public code's estimate) divides by e^-10000: w = inf
    excluded = torch.logsumexp(draws, 0) - math.log(2)
    assert torch.isinf(torch.exp(outer - excluded)[0])


@pytest.mark.parametrize("kind", ["attributes", "targets"])
def test_weight_stays_bounded_for_adversarial_encoder_outputs(kind):
    """A wide q(z_c|x) (sigma 40) and a steep classifier (w_i = 50): q(y|z_c) swings over
    hundreds of nats between draws, yet w <= K + 1 and the bound stays finite."""
    model = tiny_ccvae(kind)
    with torch.no_grad():
        for layer in (model.posterior.loc, model.posterior.raw_scale):
            layer.weight.zero_()
        model.posterior.loc.bias.zero_()
        model.posterior.raw_scale.bias.fill_(40.0)
        model.classifier.weight.fill_(50.0)
    x, y = data(kind)
    weights = []
    for seed in range(25):
        torch.manual_seed(seed)
        terms = supervised_terms(model, x, y)
        assert torch.isfinite(terms.bound).all()
        terms.bound.sum().backward()
        assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)
        weights.append(terms.weight.detach())
    weights = torch.cat(weights)
    assert float(weights.max()) <= (K_SAMPLES + 1) * (1 + 1e-4)   # float32 rounding
    assert float(weights.max()) > 2.0      # the setting does push w far from 1


# -- unsupervised: enumeration is exact ------------------------------------------------------
def brute_force_elbo(model: CCVAE, x, z_c, z_s) -> torch.Tensor:
    """sum over every label value of q(y | z_c) [log p(x, z, y) - log q(y | z_c) - log q(z | x)]."""
    loc_c, scale_c, loc_s, scale_s = model.encode(x)
    log_qz = (normal_log_pdf(z_c, loc_c, scale_c).sum(-1)
              + normal_log_pdf(z_s, loc_s, scale_s).sum(-1))
    base = (log_p_x_given_z(model, x, z_c, z_s)
            + normal_log_pdf(z_s, torch.zeros(()), torch.ones(())).sum(-1) - log_qz)
    size = model.label_space.size
    if model.label_space.multiclass:
        values = [torch.full((x.shape[0],), k) for k in range(size)]
    else:
        values = [torch.tensor(v, dtype=torch.float).expand(x.shape[0], size)
                  for v in itertools.product([0.0, 1.0], repeat=size)]
    total = torch.zeros(x.shape[0])
    for y in values:
        log_q = log_q_y_given_zc(model, y, z_c)
        total = total + log_q.exp() * (base + log_p_zc_given_y(model, z_c, y)
                                       + log_p_y(model, y) - log_q)
    return total


@pytest.mark.parametrize("kind,size", [("attributes", 3), ("targets", 4)])
def test_enumerated_elbo_equals_the_sum_over_every_label_value(kind, size):
    model = tiny_ccvae(kind, size)
    x, _ = data(kind, size)
    elbo = make_elbo("enum", max_plate_nesting=2)
    torch.manual_seed(4)
    loss = model.loss(elbo, Batch(x))
    torch.manual_seed(4)
    loc_c, scale_c, loc_s, scale_s = model.encode(x)
    z_c = torch.distributions.Normal(loc_c, scale_c).rsample()
    z_s = torch.distributions.Normal(loc_s.unsqueeze(-2), scale_s.unsqueeze(-2)).rsample()
    expected = brute_force_elbo(model, x, z_c, z_s.squeeze(-2))
    torch.testing.assert_close(-loss, expected.mean(), rtol=1e-5, atol=1e-5)


def test_enumerated_elbo_trains_every_part():
    model = tiny_ccvae("attributes")
    x, _ = data("attributes")
    model.loss(make_elbo("enum", max_plate_nesting=2), Batch(x)).backward()
    for part, params in PARTS.items():
        assert sum(float(p.grad.abs().sum()) for p in params(model)) > 0, part
    assert "label_probs" not in dict(model.named_parameters())


def test_sampled_labels_agree_with_enumeration_on_average():
    model = tiny_ccvae("attributes")
    x, _ = data("attributes")
    pyro.set_rng_seed(0)
    with torch.no_grad():
        enum = model.loss(make_elbo("enum", num_particles=4000, max_plate_nesting=2), Batch(x))
        sampled = model.loss(make_elbo("trace", num_particles=4000, max_plate_nesting=2),
                             Batch(x))
    assert abs(float(enum) - float(sampled)) < 0.05 * abs(float(enum))
    assert float(enum) != float(sampled)
