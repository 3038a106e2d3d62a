"""The ML-VAE's model/guide pair: masking, the VAE limit, gradients, per-group loss, plan."""

from __future__ import annotations

import pytest
import torch
from pyro import poutine
from torch.distributions import Bernoulli, Normal, kl_divergence

from pyro_vaes.data import load_dataset
from pyro_vaes.errors import ConfigError
from pyro_vaes.inference import make_elbo
from pyro_vaes.models import MLVAE, VAE, Batch, DataInfo, VAEConfig, build_model
from pyro_vaes.models.mlvae import MLVAEConfig
from pyro_vaes.training import PLANS

INFO = DataInfo((1, 8, 8), num_classes=10, class_names=[str(k) for k in range(10)])
LATENT, CONTENT = 6, 2


def small_mlvae(**options) -> MLVAE:
    torch.manual_seed(0)
    return MLVAE(MLVAEConfig(latent_dim=LATENT, content_dim=CONTENT, hidden_dim=32, **options),
                 INFO)


def images(*shape: int) -> torch.Tensor:
    return torch.rand(*shape, 1, 8, 8, generator=torch.Generator().manual_seed(sum(shape)))


def log_weight(model, values: dict, *args) -> torch.Tensor:
    """log p(x, z) - log q(z | x) at fixed latent values (masks and plates applied)."""
    guide = poutine.trace(poutine.condition(model.guide, data=values)).get_trace(*args)
    joint = poutine.trace(poutine.condition(model.model, data=values)).get_trace(*args)
    return (joint.log_prob_sum() - guide.log_prob_sum()).detach()


def ignore_latents(model) -> None:
    """Make the decoder's output independent of (c, s): the reconstruction term is then
    deterministic and the meanfield ELBO exact."""
    with torch.no_grad():
        model.decoder.net[0].weight.zero_()


# -- masking --------------------------------------------------------------------------------
def test_padded_groups_have_the_same_posterior_and_elbo_as_unpadded_ones():
    model = small_mlvae()
    short, full = images(1, 3), images(1, 5)
    x = torch.cat([torch.cat([short, torch.rand(1, 2, 1, 8, 8)], 1), full])  # garbage padding
    mask = torch.tensor([[True, True, True, False, False], [True] * 5])
    c = torch.randn(2, 1, CONTENT)
    s = torch.randn(2, 5, LATENT - CONTENT)
    padded = log_weight(model, {"c": c, "s": s}, x, mask)
    alone = (log_weight(model, {"c": c[:1], "s": s[:1, :3]}, short, torch.ones(1, 3).bool())
             + log_weight(model, {"c": c[1:], "s": s[1:]}, full, torch.ones(1, 5).bool()))
    assert float(padded) == pytest.approx(float(alone), rel=1e-6)
    loc, scale = model.group_content(model.encoder(x), mask)
    loc1, scale1 = model.group_content(model.encoder(short), torch.ones(1, 3).bool())
    assert torch.allclose(loc[0], loc1[0]) and torch.allclose(scale[0], scale1[0])
    # and the meanfield ELBO (exact once the decoder ignores the latents) agrees too
    ignore_latents(model)
    elbo = make_elbo("meanfield", max_plate_nesting=2)
    both = elbo.differentiable_loss(model.model, model.guide, x, mask)
    parts = (elbo.differentiable_loss(model.model, model.guide, short, torch.ones(1, 3).bool())
             + elbo.differentiable_loss(model.model, model.guide, full, torch.ones(1, 5).bool()))
    assert float(both.detach()) == pytest.approx(float(parts.detach()), rel=1e-6)


# -- a group of one is a VAE -------------------------------------------------------------------
def tied_vae(model: MLVAE) -> VAE:
    vae = VAE(VAEConfig(latent_dim=LATENT, hidden_dim=32, likelihood=model.config.likelihood),
              INFO)
    vae.encoder.load_state_dict(model.encoder.state_dict())
    vae.decoder.load_state_dict(model.decoder.state_dict())
    vae.likelihood.load_state_dict(model.likelihood.state_dict())
    with torch.no_grad():
        for name in ("loc", "raw_scale"):
            for part in ("weight", "bias"):
                both = torch.cat([getattr(getattr(model.content_head, name), part),
                                  getattr(getattr(model.style_head, name), part)])
                getattr(getattr(vae.posterior, name), part).copy_(both)
    return vae


@pytest.mark.parametrize("likelihood", ["bernoulli", "normal"])
def test_a_group_of_one_is_the_vae_with_latent_c_s(likelihood):
    model = small_mlvae(likelihood=likelihood)
    vae = tied_vae(model)
    x = images(7)
    ones = torch.ones(7, 1, dtype=torch.bool)
    q_vae = vae.posterior_distribution(x).base_dist
    loc, scale = model.group_content(model.encoder(x.unsqueeze(1)), ones)
    assert torch.allclose(q_vae.loc[:, :CONTENT], loc)
    assert torch.allclose(q_vae.scale[:, :CONTENT], scale)
    for _ in range(3):
        z = torch.randn(7, LATENT)
        got = log_weight(model, {"c": z[:, None, :CONTENT], "s": z[:, None, CONTENT:]},
                         x.unsqueeze(1), ones)
        want = log_weight(vae, {"z": z}, x)
        assert float(got) == pytest.approx(float(want), rel=1e-6)
    ignore_latents(model)
    ignore_latents(vae)
    got = make_elbo("meanfield", max_plate_nesting=2).differentiable_loss(
        model.model, model.guide, x.unsqueeze(1), ones)
    want = make_elbo("meanfield").differentiable_loss(vae.model, vae.guide, x)
    assert float(got.detach()) == pytest.approx(float(want.detach()), rel=1e-6)


# -- gradients ---------------------------------------------------------------------------------
def one_backward(model: MLVAE, elbo: str = "meanfield") -> None:
    x = images(3, 4)
    mask = torch.tensor([[True] * 4, [True, True, False, False], [True, False, False, False]])
    model.zero_grad()
    model.loss(make_elbo(elbo, max_plate_nesting=2), Batch(x, None, mask)).backward()


@pytest.mark.parametrize("elbo", ["meanfield", "trace"])
@pytest.mark.parametrize("accumulation", ["product", "mean"])
def test_every_encoder_parameter_gets_a_gradient(elbo, accumulation):
    model = small_mlvae(accumulation=accumulation)
    one_backward(model, elbo)
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None, name
        assert parameter.grad.abs().sum() > 0, name
    heads = [n for n, _ in model.named_parameters() if n.startswith("content_head")]
    assert sorted(heads) == ["content_head.loc.bias", "content_head.loc.weight",
                             "content_head.raw_scale.bias", "content_head.raw_scale.weight"]


def test_the_gradient_check_catches_a_detached_accumulation(monkeypatch):
    # The public bug: accumulating on detached tensors starves the content heads.
    import pyro_vaes.models.mlvae.model as module

    real = module.accumulate
    monkeypatch.setattr(module, "accumulate",
                        lambda kind, loc, scale, mask: real(kind, loc.detach(), scale.detach(),
                                                            mask))
    model = small_mlvae()
    one_backward(model)
    assert model.content_head.loc.weight.grad is None or \
        model.content_head.loc.weight.grad.abs().sum() == 0


# -- the loss is the negative group ELBO averaged over groups -----------------------------------
def analytic_group_elbo(model: MLVAE, x: torch.Tensor, style_beta: float = 1.0) -> torch.Tensor:
    """sum_i log p(x_i | const) - KL(q(c_g) || N(0, I)) - beta_s sum_i KL(q(s_i) || N(0, I))."""
    features = model.encoder(x)
    c_loc, c_scale = model.group_content(features, torch.ones(x.shape[:2], dtype=torch.bool))
    s_loc, s_scale = model.style_head.loc_scale(features)
    logits = model.decoder(torch.zeros(LATENT))
    pixels = Bernoulli(logits=logits, validate_args=False).log_prob(x)
    reconstruction = pixels.sum((-3, -2, -1)).sum(-1)
    prior = Normal(0.0, 1.0)
    kl_c = kl_divergence(Normal(c_loc, c_scale), prior).sum(-1)
    kl_s = kl_divergence(Normal(s_loc, s_scale), prior).sum((-2, -1))
    return (reconstruction - kl_c - style_beta * kl_s).detach()


def test_loss_is_the_negative_group_elbo_averaged_over_groups():
    model = small_mlvae(likelihood="bernoulli")
    ignore_latents(model)
    x = images(3, 4)
    mask = torch.ones(3, 4, dtype=torch.bool)
    elbo = make_elbo("meanfield", max_plate_nesting=2)
    loss = model.loss(elbo, Batch(x, None, mask))
    assert Batch(x, None, mask).size == 3
    assert float(loss.detach()) == pytest.approx(-float(analytic_group_elbo(model, x).mean()),
                                                 rel=1e-6)
    doubled = model.loss(elbo, Batch(torch.cat([x, x]), None, torch.cat([mask, mask])))
    assert float(doubled.detach()) == pytest.approx(float(loss.detach()), rel=1e-6)
    # per group, not per image: one group of 4 costs four times its per-image share
    one = model.loss(elbo, Batch(x[:1], None, mask[:1]))
    assert float(one.detach()) == pytest.approx(-float(analytic_group_elbo(model, x[:1])[0]),
                                                rel=1e-6)


def test_style_beta_weights_only_the_style_kl():
    model = small_mlvae(likelihood="bernoulli", style_beta=3.0)
    ignore_latents(model)
    x = images(2, 3)
    mask = torch.ones(2, 3, dtype=torch.bool)
    loss = model.loss(make_elbo("meanfield", max_plate_nesting=2), Batch(x, None, mask))
    expected = -float(analytic_group_elbo(model, x, style_beta=3.0).mean())
    assert float(loss.detach()) == pytest.approx(expected, rel=1e-6)
    assert expected != pytest.approx(-float(analytic_group_elbo(model, x).mean()), rel=1e-3)


# -- the grouped plan and the options ------------------------------------------------------------
@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", None, seed=0, max_train=None, image_size=None)


def test_grouped_plan_batches_same_label_groups_without_held_out_classes(digits):
    info = DataInfo.from_splits(digits)
    model = build_model("mlvae", info, hidden_dim=16, group_size=5, holdout_classes="8,9")
    plan = PLANS["grouped"](model, digits, batch_size=20, seed=0)
    seen = 0
    for batch in plan.train_batches(torch.Generator().manual_seed(0)):
        assert batch.x.shape[1:] == (5, 1, 8, 8) and batch.mask.shape == batch.x.shape[:2]
        assert batch.size == batch.x.shape[0] <= 4
        assert not torch.isin(batch.y, torch.tensor([8, 9])).any()
        assert torch.all(batch.x[~batch.mask] == 0)
        seen += int(batch.mask.sum())
    assert seen == int((digits.train.targets < 8).sum())
    held = list(plan.eval_batches("test", subset="heldout"))
    assert torch.isin(torch.cat([b.y for b in held]), torch.tensor([8, 9])).all()
    first = [b.x for b in plan.eval_batches("test")]
    again = [b.x for b in plan.eval_batches("test")]
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))


def test_member_images_carry_their_group_label(digits):
    model = build_model("mlvae", DataInfo.from_splits(digits), hidden_dim=16, group_size=4,
                        max_group_size=6)
    plan = PLANS["grouped"](model, digits, batch_size=24, seed=0)
    batch = next(iter(plan.eval_batches("val")))
    positions, ids = plan.members("val")
    for row, mask, label in zip(batch.x, batch.mask, batch.y, strict=True):
        for image in row[mask]:
            match = (digits.val.pixels(positions) == image).flatten(1).all(1)
            assert torch.all(ids[match] == label)


@pytest.mark.parametrize("options, words", [
    ({"group_by": "nosuchfactor"}, "--group-by 'nosuchfactor'"),
    ({"holdout_classes": "3,12"}, "--holdout-classes '12'"),
    ({"content_dim": 10}, "--content-dim 10"),
    ({"group_size": 8, "max_group_size": 4}, "--max-group-size 4"),
    ({"prior": "mixture"}, "has no option --prior"),
])
def test_bad_options_are_refused_in_one_line(digits, options, words):
    with pytest.raises(ConfigError) as error:
        build_model("mlvae", DataInfo.from_splits(digits), **options)
    assert words in str(error.value) and "\n" not in str(error.value)
